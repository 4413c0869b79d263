import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../local/stack';

/**
 * The `prod` stage of serverless.yml, as CloudFormation: `serverless package --stage prod`
 * runs offline without AWS credentials (as in CI), and the template it writes gives
 * every function exactly the permissions its code uses (read from its bundle in dist/),
 * puts every function that uses Redis in the VPC, and holds no secret in plain text —
 * not even one the deployer's shell happens to export.
 */
type Json = Record<string, unknown>;
interface Template {
  Resources: Record<string, { Type: string; Properties: Json }>;
  Outputs: Record<string, { Value: unknown }>;
}

const PACKAGE_TIMEOUT_MS = 240_000;
const inputs = {
  webOrigin: 'https://vote.example.org',
  vpcId: 'vpc-0123456789abcdef0',
  privateSubnetIds: 'subnet-0aaa,subnet-0bbb',
};
// Values a deployer's shell might export: none may reach the template.
const canaries = {
  INVOKE_SECRET: 'canary-invoke-secret-0123456789abcdef0123456789',
  CLUSTER_SECRET: 'canary-cluster-secret-0123456789abcdef012345678',
  REDIS_PASSWORD: 'canary-redis-password-0123456789',
  JWT_PRIVATE_JWK: '{"kty":"OKP","crv":"Ed25519","d":"canary-private-part","x":"x"}',
};

let dir: string;
let template: Template;
let text: string;

/** Runs `serverless package` with no credentials, bounded; resolves with its output. */
function packageProd(out: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...canaries, HOME: join(out, 'home') };
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
    delete env[k];
  env['AWS_SHARED_CREDENTIALS_FILE'] = join(out, 'no-credentials');
  env['AWS_CONFIG_FILE'] = join(out, 'no-config');
  const args = ['package', '--stage', 'prod', '--package', join(out, 'pkg')];
  for (const [k, v] of Object.entries(inputs)) args.push(`--param=${k}=${v}`);
  return new Promise((resolve, reject) => {
    const child = spawn(join(repoRoot, 'node_modules/.bin/serverless'), args, { cwd: repoRoot, env });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), PACKAGE_TIMEOUT_MS - 10_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`serverless package exited ${code ?? signal}:\n${output}`));
    });
  });
}

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'dist/functions/health.js'))) {
    throw new Error('dist/functions is missing: run `node scripts/build.mjs` first (npm test does)');
  }
  dir = mkdtempSync(join(tmpdir(), 'qv-sls-prod-'));
  await packageProd(dir);
  text = readFileSync(join(dir, 'pkg/cloudformation-template-update-stack.json'), 'utf8');
  template = JSON.parse(text) as Template;
}, PACKAGE_TIMEOUT_MS);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const functions = () =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id, r]) => ({ id, p: r.Properties }));

/** What a function's code does, read from its bundle (dist/functions/<name>.js). */
function uses(handler: string) {
  const code = readFileSync(join(repoRoot, `${handler.replace(/\.handler$/, '')}.js`), 'utf8');
  return {
    redis: code.includes('ClusterAllFailedError'),
    post: /\bPostToConnectionCommand\b/.test(code),
    close: /\bDeleteConnectionCommand\b/.test(code),
    invoke: /\bInvokeCommand\b/.test(code),
    signs: code.includes('signing-key.json') && /\bSignJWT\b/.test(code),
  };
}

/** The role's inline statements (managed policies would hide permissions: none allowed). */
function statements(roleRef: unknown): { Action: string | string[]; Resource: unknown }[] {
  const id = (roleRef as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const role = template.Resources[id]!;
  expect(role.Type).toBe('AWS::IAM::Role');
  expect(role.Properties['ManagedPolicyArns']).toBeUndefined();
  const policies = role.Properties['Policies'] as { PolicyDocument: { Statement: Json[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement as never);
}

const actionsOf = (s: { Action: string | string[] }) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const ENI = [
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:UnassignPrivateIpAddresses',
];

describe('serverless package --stage prod (no AWS credentials)', () => {
  test('packages every function of serverless.yml on a current Node runtime', () => {
    const fns = functions();
    expect(fns.length).toBeGreaterThanOrEqual(30);
    for (const { p } of fns) expect(p['Runtime']).toMatch(/^nodejs(22|24)\.x$/);
  });

  test("every function's role has exactly the permissions its code needs", () => {
    for (const { id, p } of functions()) {
      const u = uses(p['Handler'] as string);
      const st = statements(p['Role']);
      const actions = st.flatMap(actionsOf).sort();
      const expected = [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        ...(u.redis ? ENI : []),
        ...(u.post || u.close ? ['execute-api:ManageConnections'] : []),
        ...(u.invoke ? ['lambda:InvokeFunction'] : []),
      ].sort();
      expect({ id, actions }).toEqual({ id, actions: expected });
      for (const s of st) {
        const a = actionsOf(s);
        if (a.includes('logs:PutLogEvents')) {
          expect(JSON.stringify(s.Resource)).toContain(':log-group:/aws/lambda/quorumvote-prod-*:*');
        } else if (a.includes('execute-api:ManageConnections')) {
          // Only this stage's WebSocket API, only the methods the code calls.
          const methods = (s.Resource as { 'Fn::Sub': string }[]).map((r) => {
            const m = /:\$\{WebsocketsApi\}\/prod\/(POST|DELETE)\/@connections\/\*$/.exec(r['Fn::Sub']);
            expect({ id, resource: r['Fn::Sub'], ok: m !== null }).toMatchObject({ ok: true });
            return m![1];
          });
          expect(methods.sort()).toEqual([...(u.close ? ['DELETE'] : []), ...(u.post ? ['POST'] : [])]);
        } else {
          // Lambda's VPC attachment: these EC2 actions accept no narrower resource.
          expect(a.sort()).toEqual(ENI);
          expect(s.Resource).toBe('*');
        }
      }
    }
  });

  test('only the coordinators may invoke a function, and only broadcast; API Gateway its routes', () => {
    const identityPolicies = Object.entries(template.Resources).filter(([, r]) =>
      ['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(r.Type),
    );
    const invokers = identityPolicies.filter(([, r]) => JSON.stringify(r).includes('lambda:InvokeFunction'));
    // Resource policies on the functions let only API Gateway call them (their routes).
    const grants = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Permission');
    expect(grants.length).toBeGreaterThan(0);
    for (const g of grants) expect(g.Properties['Principal']).toBe('apigateway.amazonaws.com');
    expect(invokers.map(([id]) => id)).toEqual(['CoordinatorPolicy']);
    const doc = template.Resources['CoordinatorPolicy']!.Properties['PolicyDocument'] as {
      Statement: Json[];
    };
    const invoke = doc.Statement.filter((s) => s['Action'] === 'lambda:InvokeFunction');
    expect(invoke).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': ['BroadcastLambdaFunction', 'Arn'] },
      },
    ]);
  });

  test('functions that use Redis are in the VPC, with the security group Redis admits; others are not', () => {
    const redisIngress = JSON.stringify(
      template.Resources['RedisSecurityGroup']!.Properties['SecurityGroupIngress'],
    );
    expect(redisIngress).toContain('"LambdaSecurityGroup"');
    for (const { id, p } of functions()) {
      const vpc = p['VpcConfig'] as Json | undefined;
      if (uses(p['Handler'] as string).redis) {
        expect({ id, vpc }).toEqual({
          id,
          vpc: {
            SecurityGroupIds: [{ Ref: 'LambdaSecurityGroup' }],
            SubnetIds: { 'Fn::Split': [',', inputs.privateSubnetIds] },
          },
        });
        const env = (p['Environment'] as { Variables: Json }).Variables;
        expect({ id, tls: env['REDIS_TLS'] }).toEqual({ id, tls: '1' });
      } else {
        expect({ id, vpc }).toEqual({ id, vpc: undefined });
      }
    }
  });

  test('no secret in plain text: dynamic references only, the private key for the token issuer only', () => {
    // Nothing the deployer's shell exported, no private key material, no PEM.
    for (const v of Object.values(canaries)) expect(text).not.toContain(v);
    expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    expect(text).not.toMatch(/\\"d\\"\s*:/);
    const dynamicSecret = (v: unknown): boolean => {
      const s = typeof v === 'string' ? v : JSON.stringify(v);
      return /^"?\{\{resolve:secretsmanager:|"\{\{resolve:secretsmanager:",\{"Ref":"[A-Za-z]+"\},"\}\}"/.test(
        s,
      );
    };
    const holders: string[] = [];
    const signers: string[] = [];
    for (const { id, p } of functions()) {
      const env = (p['Environment'] as { Variables: Json }).Variables;
      for (const [name, value] of Object.entries(env)) {
        if (!/SECRET|PASSWORD|PRIVATE/.test(name)) continue;
        if (value === '') continue; // unset
        expect({ id, name, dynamic: dynamicSecret(value) }).toEqual({ id, name, dynamic: true });
      }
      if ('JWT_PRIVATE_JWK' in env) holders.push(id);
      // Code that signs tokens must be the holder, and nothing else may hold the key.
      if (uses(p['Handler'] as string).signs) {
        signers.push(id);
        expect(env['JWT_PRIVATE_JWK']).toBeDefined();
      }
    }
    // The three sign-in routes (password, voting credential, join code) and nothing else.
    expect(holders.sort()).toEqual(signers.sort());
    expect(holders).toEqual([
      'AuthCredentialLambdaFunction',
      'AuthTokenLambdaFunction',
      'JoinLambdaFunction',
    ]);
    // Secrets Manager generates the Redis AUTH token and the cluster secret.
    for (const id of ['RedisAuthSecret', 'ClusterSecret']) {
      const p = template.Resources[id]!.Properties;
      expect(p['SecretString']).toBeUndefined();
      expect(p['GenerateSecretString']).toBeDefined();
    }
  });

  test('Redis is ElastiCache in cluster mode with TLS and AUTH required', () => {
    const p = template.Resources['RedisCluster']!.Properties;
    expect(p).toMatchObject({
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      AutomaticFailoverEnabled: true,
      CacheParameterGroupName: 'default.redis7.cluster.on',
      AuthToken: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: 'RedisAuthSecret' }, '}}']] },
    });
    expect(Number(p['NumNodeGroups'])).toBeGreaterThanOrEqual(1);
    expect(Number(p['ReplicasPerNodeGroup'])).toBeGreaterThanOrEqual(1);
  });

  test('the WebSocket endpoint comes from the deployed API; CORS admits the web app origin only', () => {
    for (const { p } of functions()) {
      const ws = JSON.stringify((p['Environment'] as { Variables: Json }).Variables['WS_ENDPOINT']);
      expect(ws).toContain('{"Ref":"WebsocketsApi"}');
      expect(ws).toContain('.amazonaws.com/prod');
    }
    const cors = template.Resources['HttpApi']!.Properties['CorsConfiguration'] as Json;
    expect(cors['AllowOrigins']).toEqual([inputs.webOrigin]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub placeholder, not a JS template
    expect(JSON.stringify(template.Outputs['WebSocketUrl']!.Value)).toContain('wss://${WebsocketsApi}');
  });
});
