// `/repositories/<name>[/-/<what>[/<reference>]]`: a repository name keeps its slashes, as in
// /v2/, and `-` (never a name component) separates it from what follows, as GitLab does.
import { RegistryError } from '../../errors/index.js';
import { isValidName } from '../../oci/reference.js';

export interface RepositoryPath {
  name: string;
  /** What follows `/-/`: [] for the repository itself. */
  rest: string[];
}

export function parseRepositoryPath(wildcard: string): RepositoryPath {
  const at = wildcard.indexOf('/-/');
  const name = at < 0 ? wildcard.replace(/\/$/, '') : wildcard.slice(0, at);
  const rest = at < 0 ? [] : wildcard.slice(at + 3).split('/');
  if (!isValidName(name)) throw new RegistryError('NAME_INVALID', { name });
  return { name, rest };
}
