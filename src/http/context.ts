// What every handler gets: the parsed route, the request and reply, and the registry around it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../registry/registry.js';
import type { HttpSettings } from './settings.js';

export interface RouteContext {
  req: FastifyRequest;
  reply: FastifyReply;
  registry: Registry;
  settings: HttpSettings;
  /** Repository name, already validated against the grammar ('' for routes without one). */
  name: string;
  /** The last path parameter: a digest, a reference or an upload id, percent-decoded. */
  param: string;
  /** With access control: keeps the repositories the caller may see (the catalog uses it). */
  visible?: ((names: string[]) => Promise<string[]>) | undefined;
  /** Whether the answer was given without credentials, so a shared cache in front may keep it. */
  shared: boolean;
}

export type Handler = (ctx: RouteContext) => Promise<void>;
