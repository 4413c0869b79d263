import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { loadCoordinatorConfig } from '../../coordinator/config';
import { generateClusterSecret } from '../../coordinator/peer-secret';
import { settingNames } from '../../shared/settings/schema';

/**
 * deploy/k8s: the manifests parse, set only settings the coordinator knows, and are
 * wired consistently (names, selectors, ports, replicas vs COORDINATORS, the PDB keeps a
 * majority); each pod's resulting environment is a configuration the coordinator
 * accepts, with the identity and advertised address the peers need.
 */
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of known shape, checked by the assertions
type Obj = Record<string, any>;

const dir = join(__dirname, '../../deploy/k8s');
const docs: Obj[] = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) => loadAll(readFileSync(join(dir, f), 'utf8')) as Obj[])
  .filter(Boolean);
const byKind = (kind: string): Obj[] => docs.filter((d) => d['kind'] === kind);
const one = (kind: string, name?: string): Obj => {
  const found = byKind(kind).filter((d) => name === undefined || d['metadata']['name'] === name);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const matches = (selector: Obj, labels: Obj): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const sts = one('StatefulSet');
const pod = sts['spec']['template'];
const container = pod['spec']['containers'][0] as Obj;
const config = one('ConfigMap');
const env = container['env'] as Obj[];
const direct = Object.fromEntries(env.map((e) => [e['name'], e]));
const members = String(config['data']['COORDINATORS']).split(',');
const adminPort = container['ports'].find((p: Obj) => p['name'] === 'admin')['containerPort'] as number;

describe('Kubernetes manifests (deploy/k8s)', () => {
  test('kustomization lists every manifest of the folder', () => {
    const k = loadAll(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0] as Obj;
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...k['resources']].sort()).toEqual(files.sort());
  });

  test('every environment variable set is a setting the coordinator knows', () => {
    const known = new Set<string>(settingNames);
    const names = [...env.map((e) => e['name'] as string), ...Object.keys(config['data'])];
    expect(names.filter((n) => !known.has(n))).toEqual([]);
    // The ConfigMap reaches the container.
    expect(container['envFrom']).toEqual([{ configMapRef: { name: config['metadata']['name'] } }]);
  });

  test('stable identities: replicas = COORDINATORS = the pod names; NODE_ID is the pod name', () => {
    expect(sts['spec']['replicas']).toBe(members.length);
    const name = sts['metadata']['name'];
    expect(members).toEqual(Array.from({ length: members.length }, (_, i) => `${name}-${i}`));
    expect(direct['NODE_ID']).toEqual({
      name: 'NODE_ID',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
  });

  test('peers: a headless Service selects the pods and carries the admin port they advertise', () => {
    const peers = one('Service', sts['spec']['serviceName']);
    expect(peers['spec']['clusterIP']).toBe('None');
    expect(peers['spec']['publishNotReadyAddresses']).toBe(true);
    const labels = pod['metadata']['labels'];
    expect(matches(sts['spec']['selector']['matchLabels'], labels)).toBe(true);
    for (const svc of byKind('Service')) {
      expect(matches(svc['spec']['selector'], labels)).toBe(true);
      for (const p of svc['spec']['ports']) expect([adminPort, 'admin']).toContain(p['targetPort']);
    }
    expect(peers['spec']['ports'][0]['port']).toBe(adminPort);
    expect(direct['ADMIN_PORT']['value']).toBe(String(adminPort));
    expect(direct['ADMIN_HOST']['value']).toBe('0.0.0.0');
    expect(direct['ADVERTISE_URL']['value']).toBe(
      `http://$(NODE_ID).${peers['metadata']['name']}:${adminPort}`,
    );
  });

  test('the PodDisruptionBudget keeps a majority of COORDINATORS', () => {
    const pdb = one('PodDisruptionBudget');
    expect(pdb['spec']['minAvailable']).toBe(Math.floor(members.length / 2) + 1);
    expect(matches(pdb['spec']['selector']['matchLabels'], pod['metadata']['labels'])).toBe(true);
  });

  test('probes on /health of the admin port; non-root; the secret from a Secret volume', () => {
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      expect(container[probe]['httpGet']).toEqual({ path: '/health', port: 'admin' });
    }
    expect(pod['spec']['securityContext']).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    const path = direct['CLUSTER_SECRET_FILE']['value'] as string;
    const mount = container['volumeMounts'].find((m: Obj) => path.startsWith(`${m['mountPath']}/`));
    const volume = pod['spec']['volumes'].find((v: Obj) => v['name'] === mount['name']);
    expect(volume['secret']['items']).toContainEqual({
      key: 'cluster-secret',
      path: path.slice(mount['mountPath'].length + 1),
    });
    // No secret value in the manifests: no Secret object, secrets only by reference.
    expect(byKind('Secret')).toEqual([]);
    for (const secret of ['CLUSTER_SECRET', 'REDIS_PASSWORD', 'INVOKE_SECRET', 'JWT_PRIVATE_JWK']) {
      expect(direct[secret]?.['value']).toBeUndefined();
      expect(config['data'][secret]).toBeUndefined();
    }
    expect(direct['REDIS_PASSWORD']['valueFrom']['secretKeyRef']).toEqual({
      name: volume['secret']['secretName'],
      key: 'redis-password',
    });
  });

  test("each pod's environment is a configuration the coordinator accepts, advertising its DNS name", () => {
    const secretDir = mkdtempSync(join(tmpdir(), 'qv-k8s-'));
    try {
      writeFileSync(join(secretDir, 'cluster-secret'), generateClusterSecret());
      for (const podName of members) {
        // What the kubelet does: ConfigMap first, then env in order with $(VAR) expanded.
        const podEnv: Record<string, string> = { ...config['data'] };
        for (const e of env) {
          const from = e['valueFrom'];
          const value =
            from?.['fieldRef']?.['fieldPath'] === 'metadata.name'
              ? podName
              : from?.['secretKeyRef']
                ? `secret ${from['secretKeyRef']['key']}`
                : String(e['value']).replace(/\$\((\w+)\)/g, (_, v: string) => podEnv[v] ?? '');
          podEnv[e['name']] = value;
        }
        podEnv['CLUSTER_SECRET_FILE'] = join(secretDir, 'cluster-secret');
        const cfg = loadCoordinatorConfig(podEnv);
        expect(cfg).toMatchObject({
          nodeId: podName,
          adminHost: '0.0.0.0',
          adminPort,
          advertiseUrl: `http://${podName}.${sts['spec']['serviceName']}:${adminPort}`,
          members,
          production: true,
        });
      }
    } finally {
      rmSync(secretDir, { recursive: true, force: true });
    }
  });
});
