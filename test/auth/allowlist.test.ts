// Address allow-lists: registry-wide (auth.allowfrom) and per project, applied to the connection
// address, or to the first X-Forwarded-For hop only when the peer is in http.trustedproxies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, basic, image, pushWith, request, startAuthRegistry, type AuthRegistry } from './support.js';
import { AddressList, clientAddress } from '../../src/auth/allowlist.js';

describe('client address', () => {
  it('believes X-Forwarded-For only from a trusted proxy, and only its first hop', () => {
    const trusted = new AddressList(['127.0.0.0/8', '::1']);
    assert.equal(clientAddress('::ffff:127.0.0.1', '10.1.2.3, 172.16.0.1', trusted), '10.1.2.3');
    assert.equal(clientAddress('::1', '2001:db8::7', trusted), '2001:db8::7');
    assert.equal(clientAddress('192.0.2.9', '10.1.2.3', trusted), '192.0.2.9');
    assert.equal(clientAddress('127.0.0.1', 'garbage', trusted), '127.0.0.1');
    assert.equal(clientAddress('127.0.0.1', '10.1.2.3', new AddressList([])), '127.0.0.1');
  });
});

describe('registry-wide allow-list', () => {
  let direct: AuthRegistry;
  let proxied: AuthRegistry;
  before(async () => {
    direct = await startAuthRegistry('basic', { allowfrom: ['10.0.0.0/8'] });
    proxied = await startAuthRegistry('basic', { allowfrom: ['10.0.0.0/8'] }, { configure: (c) => { c.http.trustedproxies = ['127.0.0.1']; } });
  });
  after(async () => {
    await direct.close();
    await proxied.close();
  });

  it('refuses a connection from outside the list with 403 DENIED, credentials or not', async () => {
    const res = await request(`${direct.url}/v2/`, { authorization: basic('alice', PASSWORD) });
    assert.equal(res.status, 403);
    assert.equal((res.json() as { errors: Array<{ code: string }> }).errors[0]!.code, 'DENIED');
    const spoofed = await request(`${direct.url}/v2/`, { authorization: basic('alice', PASSWORD), headers: { 'X-Forwarded-For': '10.9.9.9' } });
    assert.equal(spoofed.status, 403, 'X-Forwarded-For from an untrusted peer is ignored');
  });

  it('behind a trusted proxy, judges the first X-Forwarded-For hop', async () => {
    const inside = await request(`${proxied.url}/v2/`, { authorization: basic('alice', PASSWORD), headers: { 'X-Forwarded-For': '10.9.9.9, 192.0.2.1' } });
    assert.equal(inside.status, 200);
    const outside = await request(`${proxied.url}/v2/`, { authorization: basic('alice', PASSWORD), headers: { 'X-Forwarded-For': '192.0.2.1, 10.9.9.9' } });
    assert.equal(outside.status, 403);
  });

  it('applies a project allow-list to the forwarded address, for administrators too', async () => {
    await proxied.store.addProject('lan', { allowFrom: ['10.1.0.0/16'] });
    const from = (xff: string) => ({ 'X-Forwarded-For': xff });
    const ok = await pushWith(proxied.url, 'lan/app', 'v1', image(), basic('alice', PASSWORD), from('10.1.0.5'));
    assert.equal(ok, 201);
    const refused = await pushWith(proxied.url, 'lan/app', 'v2', image(), basic('alice', PASSWORD), from('10.2.0.5'));
    assert.equal(refused, 403);
  });
});
