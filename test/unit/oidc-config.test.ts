import { ROLES } from '../../shared/auth/roles';
import { loadOidcConfig } from '../../shared/auth/oidc/config';
import { claimAt, mapRole } from '../../shared/auth/oidc/roles';
import { externalUserId } from '../../shared/auth/oidc/subject';
import { loadConfig } from '../../shared/config';
import { parseSettings, SettingsError } from '../../shared/settings/load';
import { SETTING_ROLES } from '../../shared/settings/oidc-values';

const base = { OIDC_ISSUER: 'https://idp.example.com/realms/org', OIDC_AUDIENCE: 'quorumvote' };

describe('OIDC settings', () => {
  it('are off unless OIDC_ISSUER is set, and our own issuer is unchanged', () => {
    expect(loadConfig({}).jwt.oidc).toBeUndefined();
    expect(loadConfig({}).jwt.issuer).toBe('quorumvote-local');
  });

  it('parse a complete configuration with its defaults', () => {
    const c = loadOidcConfig(
      parseSettings({
        ...base,
        OIDC_ROLE_CLAIM: 'realm_access.roles',
        OIDC_ROLE_MAP: ' qv-admin = admin , qv-voter=voter',
      }),
    );
    expect(c).toEqual({
      issuer: base.OIDC_ISSUER,
      audience: 'quorumvote',
      algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      roleClaim: 'realm_access.roles',
      roleMap: [
        { value: 'qv-admin', role: 'admin' },
        { value: 'qv-voter', role: 'voter' },
      ],
      usernameClaim: 'preferred_username',
      clockToleranceS: 30,
      jwksCacheMs: 600000,
      jwksCooldownMs: 5000,
      httpTimeoutMs: 2000,
    });
  });

  it.each([
    ['OIDC_ISSUER', 'http://idp.example.com', {}],
    ['OIDC_ISSUER', 'https://idp.example.com/?x=1', {}],
    ['OIDC_ISSUER', 'not a url', {}],
    ['OIDC_ALGORITHMS', 'RS256,HS256', {}],
    ['OIDC_ALGORITHMS', 'none', {}],
    ['OIDC_ROLE_MAP', 'qv-admin=root', {}],
    ['OIDC_ROLE_MAP', 'qv-admin', {}],
    ['OIDC_DEFAULT_ROLE', 'superuser', {}],
    ['OIDC_CLOCK_TOLERANCE_S', '3600', {}],
  ])('%s=%s is refused at start naming the variable', (name, value, extra) => {
    expect(() => parseSettings({ ...base, ...extra, [name]: value })).toThrow(
      new RegExp(`^Bad setting: ${name} must be .*, got "${value.replace(/[?.*+]/g, '\\$&')}"$`),
    );
  });

  it('allows plain http only on a loopback host (tests, a local IdP)', () => {
    expect(parseSettings({ OIDC_ISSUER: 'http://127.0.0.1:9000' }).OIDC_ISSUER).toBe('http://127.0.0.1:9000');
    expect(parseSettings({ OIDC_ISSUER: 'http://localhost:9000/x' }).OIDC_ISSUER).toBe(
      'http://localhost:9000/x',
    );
  });

  it.each([
    [{ OIDC_ISSUER: base.OIDC_ISSUER, OIDC_DEFAULT_ROLE: 'voter' }, /OIDC_AUDIENCE must be set/],
    [{ ...base }, /OIDC_ROLE_CLAIM \+ OIDC_ROLE_MAP or OIDC_DEFAULT_ROLE/],
    [{ ...base, OIDC_ROLE_MAP: 'a=voter' }, /OIDC_ROLE_CLAIM must be set/],
    [{ ...base, OIDC_DEFAULT_ROLE: 'voter', JWT_ISSUER: base.OIDC_ISSUER }, /must differ from JWT_ISSUER/],
  ])('refuses a configuration that could admit nobody or confuse issuers: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(SettingsError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('knows the same roles as the rest of the system', () => {
    expect([...SETTING_ROLES]).toEqual([...ROLES]);
  });
});

describe('role mapping from IdP claims', () => {
  const table = {
    roleMap: [
      { value: 'qv-admins', role: 'admin' as const },
      { value: 'qv-trustees', role: 'trustee' as const },
      { value: 'qv-voters', role: 'voter' as const },
    ],
  };

  it('reads Cognito groups (a claim name with a colon)', () => {
    expect(
      mapRole({ 'cognito:groups': ['qv-voters', 'qv-admins'] }, { ...table, roleClaim: 'cognito:groups' }),
    ).toBe('admin');
  });

  it("reads Auth0's namespaced claim (a name full of dots) before trying it as a path", () => {
    const claim = 'https://vote.example.com/roles';
    expect(mapRole({ [claim]: ['qv-trustees'] }, { ...table, roleClaim: claim })).toBe('trustee');
  });

  it('walks Keycloak realm_access.roles as a dotted path', () => {
    const payload = { realm_access: { roles: ['offline_access', 'qv-voters'] } };
    expect(mapRole(payload, { ...table, roleClaim: 'realm_access.roles' })).toBe('voter');
    expect(claimAt(payload, 'realm_access.missing')).toBeUndefined();
    expect(claimAt({ a: 'x' }, 'a.length')).toBeUndefined();
  });

  it('takes a single string or a space-separated list', () => {
    expect(mapRole({ g: 'qv-voters' }, { ...table, roleClaim: 'g' })).toBe('voter');
    expect(mapRole({ g: 'x qv-trustees' }, { ...table, roleClaim: 'g' })).toBe('trustee');
  });

  it('lets the first row of the table win, falls back to the default role, else grants none', () => {
    const payload = { g: ['qv-voters', 'qv-trustees'] };
    expect(mapRole(payload, { ...table, roleClaim: 'g' })).toBe('trustee');
    expect(mapRole({ g: ['other'] }, { ...table, roleClaim: 'g', defaultRole: 'voter' })).toBe('voter');
    expect(mapRole({ g: ['other'] }, { ...table, roleClaim: 'g' })).toBeUndefined();
    expect(mapRole({ g: [42, { x: 1 }] }, { ...table, roleClaim: 'g' })).toBeUndefined();
  });
});

describe('external user ids', () => {
  it('are stable for one (issuer, subject) and differ across issuers and subjects', () => {
    const a = externalUserId('https://a.example.com', '1234');
    expect(a).toBe(externalUserId('https://a.example.com', '1234'));
    expect(a).toMatch(/^oidc_[a-z2-7]{32}$/);
    expect(externalUserId('https://b.example.com', '1234')).not.toBe(a);
    expect(externalUserId('https://a.example.com', '12345')).not.toBe(a);
    // No issuer/subject split of the same characters collides.
    expect(externalUserId('https://a.example.com1', '234')).not.toBe(a);
    expect(externalUserId('https://a.example.com/', '1234')).not.toBe(a);
  });

  it('are fixed by the documented rule (a change would give every external voter a new id)', () => {
    // oidc_ + base32(SHA-256("qv/oidc-subject/v1" + '["https://idp.example.com","alice"]')[0..20]),
    // computed independently (docs/deploy.md shows the same rule as a shell one-liner).
    expect(externalUserId('https://idp.example.com', 'alice')).toBe('oidc_ejxp4sstdcbgr7zzjlnqxmzusc5vga46');
  });
});
