// Kubernetes objects for N services, the Jsonnet way: the data comes in as the external code
// variable `input` (services.json), the result maps file names to YAML text, as for
// `jsonnet -m OUT -S` (run_jsonnet.py writes the files; see there).
//
// Objects per service: Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget,
// ServiceAccount, NetworkPolicy, PrometheusRule (the ones platc generates for the same spec;
// see scripts/compare-peers.sh).
local input = std.extVar('input');
local platform = input.platform;
local ns = platform.namespace;

local windows = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];
local tiers = [
  { name: 'FastBurn', severity: 'critical', 'for': '2m', pairs: [['1h', '5m', '14.4'], ['6h', '30m', '6']] },
  { name: 'SlowBurn', severity: 'warning', 'for': '15m', pairs: [['1d', '2h', '3'], ['3d', '6h', '1']] },
];

local selectorLabels(s) = {
  'app.kubernetes.io/name': s.name,
  'app.kubernetes.io/component': 'web',
  'platc.dev/process': s.name,
};

local labels(s) = selectorLabels(s) + {
  'helm.sh/chart': s.name + '-' + platform.version,
  'app.kubernetes.io/version': platform.version,
  'app.kubernetes.io/part-of': platform.name,
  'app.kubernetes.io/managed-by': 'platc',
  'platc.dev/environment': platform.environment,
  'platc.dev/owner': s.owner,
};

local metadata(s) = { name: s.name, namespace: ns, labels: labels(s) };
local tcp(p) = { protocol: 'TCP', port: p };
local pods(n) = { podSelector: { matchLabels: { 'app.kubernetes.io/name': n } } };
local namespaceSel(n) = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': n } } };
local probe(path) = { httpGet: { path: path, port: 'http' }, periodSeconds: 10 };

local envVar(e) =
  if std.objectHas(e, 'secret') then { name: e.name, valueFrom: { secretKeyRef: { name: e.secret, key: e.key } } }
  else if std.objectHas(e, 'config') then { name: e.name, valueFrom: { configMapKeyRef: { name: e.config, key: e.key } } }
  else { name: e.name, value: e.value };

local deployment(s) = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: metadata(s),
  spec: {
    revisionHistoryLimit: 5,
    selector: { matchLabels: selectorLabels(s) },
    template: {
      metadata: { labels: labels(s) },
      spec: {
        serviceAccountName: s.name,
        automountServiceAccountToken: false,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 10001,
          runAsGroup: 10001,
          fsGroup: 10001,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containers: [{
          name: s.name,
          image: s.image,
          imagePullPolicy: 'Always',
          ports: [{ name: p.name, containerPort: p.port, protocol: 'TCP' } for p in s.ports],
          env: [envVar(e) for e in s.env],
          resources: {
            requests: { cpu: s.requests.cpu, memory: s.requests.memory },
            limits: { cpu: s.limits.cpu, memory: s.limits.memory },
          },
          securityContext: {
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
          readinessProbe: probe(s.health.readiness),
          livenessProbe: probe(s.health.liveness),
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        }],
        volumes: [{ name: 'tmp', emptyDir: {} }],
      },
    },
  },
};

local service(s) = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: metadata(s),
  spec: {
    type: 'ClusterIP',
    selector: selectorLabels(s),
    ports: [{ name: p.name, port: p.port, targetPort: p.name, protocol: 'TCP', appProtocol: p.protocol } for p in s.ports],
  },
};

local hpa(s) = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: metadata(s),
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: s.name },
    minReplicas: s.replicas.min,
    maxReplicas: s.replicas.max,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: s.cpuTarget } } }],
  },
};

local pdb(s) = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: metadata(s),
  spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(s) } },
};

local serviceAccount(s) = {
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: metadata(s),
  automountServiceAccountToken: false,
};

local networkPolicy(s) =
  local allPorts = [tcp(p.port) for p in s.ports];
  local cloudPorts = std.set([u.port for u in s.uses] + [443]);
  local metrics = [p for p in s.ports if p.name == 'metrics'];
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadata(s),
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': s.name } },
      policyTypes: ['Ingress', 'Egress'],
      ingress:
        (if std.length(s.callers) > 0 then [{ from: [pods(c) for c in s.callers], ports: allPorts }] else [])
        + (if std.length(s.routes) > 0 then [{ from: [namespaceSel('ingress-nginx')], ports: [tcp(s.ports[0].port)] }] else [])
        + (if std.length(metrics) > 0 then [{ from: [namespaceSel('monitoring')], ports: [tcp(metrics[0].port)] }] else []),
      egress:
        [{
          to: [{
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          }],
          ports: [{ protocol: 'UDP', port: 53 }, tcp(53)],
        }]
        + [{ to: [pods(c.name)], ports: [tcp(p) for p in c.ports] } for c in s.callees]
        + (if std.length(s.uses) > 0 then [
             { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcp(p) for p in cloudPorts] },
             { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [tcp(80)] },
           ] else []),
    },
  };

local capitalize(w) = std.asciiUpper(w[0]) + w[1:];
local camel(n) = std.join('', [capitalize(w) for w in std.split(n, '-')]);

local errorRatio(s, o, w) =
  local sel = 'namespace="' + ns + '",service="' + s.name + '"';
  if o.slo == 'availability' then
    'sum(rate(http_requests_total{' + sel + ',code=~"5.."}[' + w + '])) / sum(rate(http_requests_total{' + sel + '}[' + w + ']))'
  else
    '1 - (sum(rate(http_request_duration_seconds_bucket{' + sel + ',le="' + o.le + '"}[' + w + '])) / sum(rate(http_request_duration_seconds_count{' + sel + '}[' + w + '])))';

local alert(s, o, t) =
  local sel = 'namespace="' + ns + '",service="' + s.name + '",slo="' + o.slo + '"';
  local threshold(p) = ' > (' + p[2] + ' * (1 - ' + o.objective + '))';
  local cond(p) = '(slo:sli_error:ratio_rate' + p[0] + '{' + sel + '}' + threshold(p) + ' and slo:sli_error:ratio_rate' + p[1] + '{' + sel + '}' + threshold(p) + ')';
  {
    alert: camel(s.name) + capitalize(o.slo) + t.name,
    expr: std.join(' or ', [cond(p) for p in t.pairs]),
    'for': t['for'],
    labels: { severity: t.severity, namespace: ns, service: s.name, slo: o.slo },
    annotations: {
      summary: s.name + ': ' + o.title + ' error budget burning in {{ $labels.namespace }}',
      description: s.name + ' spends its ' + o.title + ' error budget (objective ' + o.objectivePercent + ' over 30d) at more than '
                   + std.join(' or ', [p[0] + '/' + p[1] + ' at ' + p[2] + 'x' for p in t.pairs]) + ' the sustainable rate.',
    },
  };

local prometheusRule(s) = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: metadata(s),
  spec: {
    groups: [{
      name: s.name + '-slo-' + o.slo,
      rules: [{
        record: 'slo:sli_error:ratio_rate' + w,
        expr: errorRatio(s, o, w),
        labels: { namespace: ns, service: s.name, slo: o.slo },
      } for w in windows] + [alert(s, o, t) for t in tiers],
    } for o in s.slo],
  },
};

local objects(s) = [deployment(s), service(s), hpa(s), pdb(s), serviceAccount(s), networkPolicy(s), prometheusRule(s)];

{
  [s.name + '/' + std.asciiLower(o.kind) + '-' + s.name + '.yaml']: std.manifestYamlDoc(o, quote_keys=false)
  for s in input.services
  for o in objects(s)
}
