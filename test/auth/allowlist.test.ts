// Address allow-lists: registry-wide (auth.allowfrom) and per project, applied to the connection
// address, or, when the peer is in http.trustedproxies, to the first hop from the right of
// X-Forwarded-For (or Forwarded) that is not a trusted proxy: hops to its left are the client's own words.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, basic, image, pushWith, request, startAuthRegistry, type AuthRegistry } from './support.js';
import { ProxyTrust } from '../../src/net/proxy-trust.js';

describe('client address', () => {
  const xff = (value: string) => ({ 'x-forwarded-for': value });
  it('believes X-Forwarded-For only from a trusted proxy, read from the right past trusted hops', () => {
    const trust = new ProxyTrust(['127.0.0.0/8', '::1', '10.0.0.0/8']);
    assert.equal(trust.clientAddress('::ffff:127.0.0.1', xff('172.16.0.1, 192.0.2.7')), '192.0.2.7');
    assert.equal(trust.clientAddress('::1', xff('2001:db8::7')), '2001:db8::7');
    assert.equal(trust.clientAddress('192.0.2.9', xff('10.1.2.3')), '192.0.2.9', 'an untrusted peer is the client');
    assert.equal(trust.clientAddress('127.0.0.1', xff('garbage')), '127.0.0.1');
    assert.equal(trust.clientAddress('127.0.0.1', xff('203.0.113.5, 10.0.0.2')), '203.0.113.5', 'a chain of trusted proxies is walked');
    assert.equal(trust.clientAddress('127.0.0.1', { 'x-forwarded-for': ['10.9.9.9', '198.51.100.1'] }), '198.51.100.1');
    assert.equal(new ProxyTrust([]).clientAddress('127.0.0.1', xff('10.1.2.3')), '127.0.0.1');
  });

  it('ignores a first hop written by the client itself (the proxy appends)', () => {
    // nginx's $proxy_add_x_forwarded_for: the client sent "10.9.9.9", nginx appended the real peer.
    const trust = new ProxyTrust(['127.0.0.1']);
    assert.equal(trust.clientAddress('127.0.0.1', xff('10.9.9.9, 192.0.2.1')), '192.0.2.1');
  });

  it('reads RFC 7239 Forwarded the same way when http.forwardedheader says so', () => {
    const trust = new ProxyTrust(['127.0.0.1'], 'forwarded');
    const fwd = (value: string) => ({ forwarded: value, 'x-forwarded-for': '10.1.1.1' });
    assert.equal(trust.clientAddress('127.0.0.1', fwd('for=10.9.9.9, for=192.0.2.1;proto=https')), '192.0.2.1');
    assert.equal(trust.clientAddress('127.0.0.1', fwd('for="[2001:db8::1]:4711"')), '2001:db8::1');
    assert.equal(trust.clientAddress('127.0.0.1', fwd('for=10.9.9.9, for=unknown')), '127.0.0.1', 'an unknown hop stops the walk');
    assert.equal(trust.clientAddress('127.0.0.1', { 'x-forwarded-for': '10.1.1.1' }), '127.0.0.1', 'X-Forwarded-For is not read');
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

  it('behind a trusted proxy, judges the hop the proxy appended, not one the client wrote', async () => {
    const inside = await request(`${proxied.url}/v2/`, { authorization: basic('alice', PASSWORD), headers: { 'X-Forwarded-For': '192.0.2.1, 10.9.9.9' } });
    assert.equal(inside.status, 200);
    // An outside client (192.0.2.1) that sends its own "10.9.9.9" first: the proxy appends its address.
    const spoofed = await request(`${proxied.url}/v2/`, { authorization: basic('alice', PASSWORD), headers: { 'X-Forwarded-For': '10.9.9.9, 192.0.2.1' } });
    assert.equal(spoofed.status, 403);
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
