'use strict';
// `npm test` runs this with Node's built-in test runner (node --test).

const test = require('node:test');
const assert = require('node:assert');
const { createServer, Metrics } = require('./server');

test('probes answer 200 and metrics are Prometheus text', async () => {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    for (const path of ['/healthz', '/ready', '/']) {
      const res = await fetch(base + path);
      assert.strictEqual(res.status, 200, path);
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^# TYPE http_requests_total counter$/m);
    assert.match(metrics, /^http_requests_total\{method="GET",code="200"\} 1$/m);
    assert.match(metrics, /^# TYPE http_request_duration_seconds histogram$/m);
  } finally {
    server.close();
  }
});

test('the histogram is cumulative', () => {
  const metrics = new Metrics();
  metrics.observe('GET', 200, 0.2);
  metrics.observe('GET', 500, 3);
  const text = metrics.render();
  assert.match(text, /^http_request_duration_seconds_bucket\{le="0.25"\} 1$/m);
  assert.match(text, /^http_request_duration_seconds_bucket\{le="\+Inf"\} 2$/m);
  assert.match(text, /^http_requests_total\{method="GET",code="500"\} 1$/m);
});
