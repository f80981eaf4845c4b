// Prometheus instruments are collected where something reads them, and only there: prom-client
// (and the OpenTelemetry API its process metrics load) costs idle memory and start time (issue 22).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { metricsRead } from '../../src/server/observability.js';

const CASES: { name: string; env: Record<string, string>; read: boolean }[] = [
  { name: 'the defaults (/metrics served nowhere)', env: {}, read: false },
  { name: '/metrics on the main listener', env: { REGISTRY_METRICS_MAINLISTENER: 'true' }, read: true },
  { name: 'the debug listener with prometheus', env: { REGISTRY_HTTP_DEBUG_ADDR: '127.0.0.1:5001', REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED: 'true' }, read: true },
  { name: 'the debug listener without prometheus (health only)', env: { REGISTRY_HTTP_DEBUG_ADDR: '127.0.0.1:5001' }, read: false },
  { name: 'prometheus enabled with no debug listener', env: { REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED: 'true' }, read: false },
  { name: 'a pull-through cache (the console\'s Upstreams page)', env: { REGISTRY_PROXY_REMOTEURL: 'https://registry-1.docker.io' }, read: true },
  { name: 'metrics.enabled false, even with /metrics on the main listener', env: { REGISTRY_METRICS_ENABLED: 'false', REGISTRY_METRICS_MAINLISTENER: 'true' }, read: false },
];

describe('metrics are collected where they are read', () => {
  for (const c of CASES) {
    it(`${c.read ? 'collects' : 'does not collect'} with ${c.name}`, () => {
      assert.equal(metricsRead(loadConfig({ env: c.env }).config), c.read);
    });
  }
});
