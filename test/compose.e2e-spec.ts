// docker-compose.yml against the code it deploys: docker-compose accepts it; each service
// gets the environment `npm start` gives it (tools/cluster/cluster.ts) and nothing that
// readServiceEnv does not read, on the ports of DEFAULT_PORTS; the Dockerfile's runtime
// stage has what the services load at run time; Prometheus scrapes every service.
// There is no Docker engine here: the image and the stack are checked as files.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_PORTS, SERVICE_ENV_VARIABLES } from '#service-kit';
import { NBD_ENV_VARIABLES } from '#dispatch';
import { luaDir } from '#redis-mq';
import { REDIS_SERVER_ARGS, REDIS_SERVER_ENV } from '../tools/cluster/redis-server-options';

const ROOT = path.resolve(__dirname, '..');
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');

const SERVICES = ['gendisk', 'dispatch', 'rnull', 'completion'] as const;
type Service = (typeof SERVICES)[number];
const HTTP_PORT: Record<Service, number> = {
  gendisk: DEFAULT_PORTS.gendiskHttp,
  dispatch: DEFAULT_PORTS.dispatchHttp,
  rnull: DEFAULT_PORTS.rnullHttp,
  completion: DEFAULT_PORTS.completionHttp,
};
const GRPC_PORT: Partial<Record<Service, number>> = { gendisk: DEFAULT_PORTS.gendiskGrpc, dispatch: DEFAULT_PORTS.dispatchGrpc };

/**
 * What tools/cluster/cluster.ts passes to every service: `baseEnv` in `start()` and
 * HTTP_PORT in `spawn()`; GRPC_URL goes to gendisk and dispatch only. cluster.ts exports
 * no list, so it is written out here and checked against cluster.ts's source text below.
 */
const LAUNCHER_VARIABLES = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'KEY_PREFIX', 'GENDISK_URL', 'HTTP_PORT'];
const launcherVariables = (s: Service): string[] => (GRPC_PORT[s] ? [...LAUNCHER_VARIABLES, 'GRPC_URL'] : LAUNCHER_VARIABLES);

interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  ports?: (string | { published: number | string; target: number })[];
  volumes?: (string | { source: string; target: string })[];
  container_name?: string;
  restart?: string;
  secrets?: (string | { source: string; target?: string })[];
}

interface ConfigRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

let configRun: Promise<ConfigRun> | undefined;
/** `docker-compose -f docker-compose.yml config`: the file as compose resolves it. */
function composeConfig(): Promise<ConfigRun> {
  configRun ??= new Promise((resolve, reject) => {
    execFile('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: ROOT }, (err, stdout, stderr) => {
      const code = (err as (NodeJS.ErrnoException & { code?: unknown }) | null)?.code;
      if (code === 'ENOENT') {
        reject(
          new Error(
            "docker-compose is not on the PATH: install Debian's docker-compose (apt-get install docker-compose; .ci/run installs it)",
          ),
        );
        return;
      }
      resolve({ exitCode: typeof code === 'number' ? code : err ? 1 : 0, stdout, stderr });
    });
  });
  return configRun;
}

async function composeServices(): Promise<Record<string, ComposeService>> {
  const run = await composeConfig();
  if (run.exitCode !== 0) throw new Error(`docker-compose config failed (exit ${run.exitCode}):\n${run.stderr}`);
  return (parse(run.stdout) as { services: Record<string, ComposeService> }).services;
}

/** The first host port of each published port (or range). */
const publishedPorts = (svc: ComposeService): number[] =>
  (svc.ports ?? [])
    .map((p) => Number(String(typeof p === 'string' ? p.split(':').at(-2) : p.published).split('-')[0]))
    .sort((a, b) => a - b);
/** How many host ports each published port of `svc` spans (a range for a scaled service). */
const publishedWidths = (svc: ComposeService): number[] =>
  (svc.ports ?? []).map((p) => {
    const [from, to] = String(typeof p === 'string' ? p.split(':').at(-2) : p.published)
      .split('-')
      .map(Number);
    return to === undefined ? 1 : to - from + 1;
  });

const mounts = (svc: ComposeService): string[] =>
  (svc.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':').slice(0, 2).join(':') : `${v.source}:${v.target}`));

it('docker-compose accepts docker-compose.yml (docker-compose config exits 0)', async () => {
  const run = await composeConfig();
  expect({ exitCode: run.exitCode, stderr: run.stderr }).toMatchObject({ exitCode: 0 });
  expect(Object.keys(parse(run.stdout).services).sort()).toEqual([
    'completion',
    'dispatch',
    'gendisk',
    'grafana',
    'nbd-gateway',
    'prometheus',
    'redis',
    'rnull',
    'rnullb0',
  ]);
});

it('LAUNCHER_VARIABLES are exactly the service variables tools/cluster/cluster.ts names', () => {
  // Fails when the launcher starts or stops passing one of readServiceEnv's variables:
  // update LAUNCHER_VARIABLES and docker-compose.yml together.
  const source = read('tools/cluster/cluster.ts');
  const named = SERVICE_ENV_VARIABLES.filter((name) => new RegExp(`\\b${name}\\b`).test(source));
  expect([...named].sort()).toEqual([...LAUNCHER_VARIABLES, 'GRPC_URL'].sort());
});

describe.each(SERVICES)('%s in docker-compose.yml', (service) => {
  it('sets only variables that readServiceEnv reads (SERVICE_ENV_VARIABLES; dispatch also readNbdEnv)', async () => {
    const env = (await composeServices())[service].environment ?? {};
    const known: readonly string[] = service === 'dispatch' ? [...SERVICE_ENV_VARIABLES, ...NBD_ENV_VARIABLES] : SERVICE_ENV_VARIABLES;
    expect(Object.keys(env).length).toBeGreaterThan(0);
    expect(Object.keys(env).filter((name) => !known.includes(name))).toEqual([]);
  });

  it('sets every variable npm start passes, on the default ports', async () => {
    const env = (await composeServices())[service].environment ?? {};
    expect(launcherVariables(service).filter((name) => !(name in env))).toEqual([]);
    expect(env.HTTP_PORT).toBe(String(HTTP_PORT[service]));
    expect(env.HTTP_HOST).toBe('0.0.0.0');
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(env.GENDISK_URL).toBe(`gendisk:${DEFAULT_PORTS.gendiskGrpc}`);
    expect(env.GRPC_URL).toBe(GRPC_PORT[service] ? `0.0.0.0:${GRPC_PORT[service]}` : undefined);
  });

  it("runs the service's compiled main from the runtime image, health-checked on its HTTP port", async () => {
    const svc = (await composeServices())[service];
    expect(fs.existsSync(path.join(ROOT, 'services', service, 'src/main.ts'))).toBe(true);
    expect(svc.command).toEqual(['node', `dist/services/${service}/src/main.js`]);
    expect(svc.build).toEqual({ context: ROOT, target: 'runtime' });
    expect(svc.healthcheck?.test.join(' ')).toContain(`fetch('http://127.0.0.1:${HTTP_PORT[service]}/healthz')`);
  });
});

it('comes up in order: redis, gendisk, then rnull and completion, then dispatch, then rnullb0', async () => {
  const services = await composeServices();
  const healthyDeps = (name: string): string[] =>
    Object.entries(services[name].depends_on ?? {})
      .filter(([, d]) => d.condition === 'service_healthy')
      .map(([dep]) => dep)
      .sort();
  expect(healthyDeps('gendisk')).toEqual(['redis']);
  expect(healthyDeps('rnull')).toEqual(['gendisk', 'redis']);
  expect(healthyDeps('completion')).toEqual(['gendisk', 'redis']);
  expect(healthyDeps('dispatch')).toEqual(['completion', 'gendisk', 'redis', 'rnull']);
  expect(healthyDeps('rnullb0')).toEqual(['dispatch']);
  expect(services.redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
});

it('runs redis as npm start and the bench do: the page store on transparent huge pages', async () => {
  // redis-server-options.ts owns the settings; this fails when compose drifts from them.
  const redis = (await composeServices()).redis;
  const command = redis.command ?? [];
  const at = command.indexOf(REDIS_SERVER_ARGS[0]);
  expect(at).toBeGreaterThan(0);
  expect(command.slice(at, at + REDIS_SERVER_ARGS.length)).toEqual(REDIS_SERVER_ARGS);
  expect(redis.environment).toEqual(REDIS_SERVER_ENV);
});

describe('NBD in docker-compose.yml', () => {
  it('is served inside dispatch by default (NBD_IN_DISPATCH=1), published on the default NBD port', async () => {
    const dispatch = (await composeServices()).dispatch;
    expect(dispatch.environment).toMatchObject({ NBD_IN_DISPATCH: '1', NBD_HOST: '0.0.0.0', NBD_PORT: String(DEFAULT_PORTS.nbdGateway) });
  });

  it('gets what npm start passes it (DISPATCH_URL, NBD_PORT, HTTP_PORT) and only variables it reads', async () => {
    const svc = (await composeServices())['nbd-gateway'];
    const env = svc.environment ?? {};
    const known: readonly string[] = [...SERVICE_ENV_VARIABLES, ...NBD_ENV_VARIABLES];
    expect(Object.keys(env).filter((name) => !known.includes(name))).toEqual([]);
    expect(env).toMatchObject({
      DISPATCH_URL: `dispatch:${DEFAULT_PORTS.dispatchGrpc}`,
      NBD_PORT: String(DEFAULT_PORTS.nbdGateway),
      NBD_HOST: '0.0.0.0',
      HTTP_PORT: String(DEFAULT_PORTS.nbdGatewayHttp),
      HTTP_HOST: '0.0.0.0',
    });
    // tools/cluster/cluster.ts passes the gateway the same two (and NBD_IN_DISPATCH to dispatch in that mode).
    const launcher = read('tools/cluster/cluster.ts');
    expect(NBD_ENV_VARIABLES.filter((name) => new RegExp(`\\b${name}\\b`).test(launcher)).sort()).toEqual([
      'DISPATCH_URL',
      'NBD_IN_DISPATCH',
      'NBD_PORT',
    ]);
  });

  it('runs its compiled main once dispatch is healthy, publishes the NBD port, and is scraped', async () => {
    const svc = (await composeServices())['nbd-gateway'];
    expect(fs.existsSync(path.join(ROOT, 'services/nbd-gateway/src/main.ts'))).toBe(true);
    expect(svc.command).toEqual(['node', 'dist/services/nbd-gateway/src/main.js']);
    expect(Object.keys(svc.depends_on ?? {})).toEqual(['dispatch']);
    // Only with `--profile nbd-gateway`, and on another host port than dispatch's 10809.
    expect((svc as { profiles?: string[] }).profiles).toEqual(['nbd-gateway']);
    expect(svc.healthcheck?.test.join(' ')).toContain(`fetch('http://127.0.0.1:${DEFAULT_PORTS.nbdGatewayHttp}/healthz')`);
    expect(publishedPorts(svc)).toEqual([DEFAULT_PORTS.nbdGatewayHttp, DEFAULT_PORTS.nbdGateway + 10].sort((a, b) => a - b));
    const prom = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
    };
    const job = prom.scrape_configs.find((j) => j.job_name === 'nbd-gateway');
    expect(job?.dns_sd_configs).toEqual([expect.objectContaining({ names: ['nbd-gateway'], port: DEFAULT_PORTS.nbdGatewayHttp })]);
  });
});

it('lets rnull, completion and dispatch scale and publishes only dispatch, the NBD gateway, Prometheus and Grafana', async () => {
  const services = await composeServices();
  for (const name of ['rnull', 'completion'])
    expect([services[name].container_name, publishedPorts(services[name])]).toEqual([undefined, []]);
  expect(publishedPorts(services.dispatch)).toEqual(
    [DEFAULT_PORTS.dispatchHttp, DEFAULT_PORTS.nbdGateway, DEFAULT_PORTS.dispatchGrpc].sort((a, b) => a - b),
  );
  // `--scale dispatch=4`: every published port of dispatch is a range of four host ports,
  // and no range overlaps another service's published port.
  expect(publishedWidths(services.dispatch)).toEqual([4, 4, 4]);
  const others = Object.entries(services)
    .filter(([name]) => name !== 'dispatch')
    .flatMap(([, svc]) => publishedPorts(svc));
  for (const from of publishedPorts(services.dispatch)) expect(others.filter((p) => p >= from && p < from + 4)).toEqual([]);
  expect(publishedPorts(services.gendisk)).toEqual([]);
  expect(publishedPorts(services.prometheus)).toEqual([9090]);
  expect(publishedPorts(services.grafana)).toEqual([3000]);
});

it('creates rnullb0 once dispatch is healthy, with rnullctl from the same image', async () => {
  const services = await composeServices();
  const oneShot = services.rnullb0;
  expect(oneShot.image).toBe(services.dispatch.image);
  expect(oneShot.restart).toBe('no');
  expect(oneShot.command?.join(' ')).toContain(
    `node bin/rnullctl disk create rnullb0 --power --address dispatch:${DEFAULT_PORTS.dispatchGrpc}`,
  );
  expect(fs.existsSync(path.join(ROOT, 'bin/rnullctl'))).toBe(true);
});

describe('bearer tokens in docker-compose.yml (README "Security")', () => {
  /** The secrets a service mounts, as `/run/secrets/<name>` paths. */
  const mounted = (svc: ComposeService): string[] =>
    (svc.secrets ?? []).map((x) => `/run/secrets/${typeof x === 'string' ? x : (x.target ?? x.source)}`);
  const git = (...args: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile('git', args, { cwd: ROOT }, (err, stdout) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
      ),
    );

  it('turns the check on in gendisk and dispatch, from a secret file, and gives every gRPC client a token from one', async () => {
    const services = await composeServices();
    for (const name of ['gendisk', 'dispatch']) {
      const file = services[name].environment?.RNULL_AUTH_TOKENS_FILE;
      expect([name, file && mounted(services[name]).includes(file)]).toEqual([name, true]);
    }
    for (const name of ['dispatch', 'rnull', 'nbd-gateway']) {
      const file = services[name].environment?.RNULL_TOKEN_FILE;
      expect([name, file && mounted(services[name]).includes(file)]).toEqual([name, true]);
    }
    const oneShot = services.rnullb0;
    expect(oneShot.command?.join(' ')).toMatch(/export RNULL_TOKEN="\$\$?\(cat (\S+)\)"/);
    const read = /cat (\S+)\)/.exec(oneShot.command!.join(' '))![1];
    expect(mounted(oneShot)).toContain(read);
  });

  it('holds no token itself: no service sets RNULL_AUTH_TOKENS or RNULL_TOKEN inline, and the secret files are not in git', async () => {
    const services = await composeServices();
    const inline = Object.entries(services).flatMap(([name, svc]) =>
      ['RNULL_AUTH_TOKENS', 'RNULL_TOKEN'].filter((v) => svc.environment?.[v] !== undefined).map((v) => `${name}: ${v}`),
    );
    expect(inline).toEqual([]);
    const files = (parse((await composeConfig()).stdout) as { secrets: Record<string, { file: string }> }).secrets;
    expect(Object.keys(files).sort()).toEqual([
      'nbd-psk',
      'redis-completion-password',
      'redis-dispatch-password',
      'redis-gendisk-password',
      'redis-rnull-password',
      'redis-users-acl',
      'rnull-auth-tokens',
      'rnull-service-token',
    ]);
    for (const { file } of Object.values(files)) {
      const relative = path.relative(ROOT, file);
      expect([relative, (await git('check-ignore', '-q', relative)).code]).toEqual([relative, 0]);
      expect([relative, (await git('ls-files', '--error-unmatch', relative)).code]).not.toEqual([relative, 0]);
    }
  });
});

describe('NBD security in docker-compose.yml (README "NBD security", DESIGN I19)', () => {
  it('requires TLS with the pre-shared keys of a secret in dispatch and the NBD gateway, rnull writing and reader reading', async () => {
    const services = await composeServices();
    for (const name of ['dispatch', 'nbd-gateway']) {
      const env = services[name].environment ?? {};
      const mounted = (services[name].secrets ?? []).map((x) => `/run/secrets/${typeof x === 'string' ? x : (x.target ?? x.source)}`);
      expect([name, env.NBD_TLS, env.NBD_AUTH_IDENTITIES, mounted.includes(env.NBD_TLS_PSK_FILE ?? '-')]).toEqual([
        name,
        'require',
        'rnull:write,reader:read',
        true,
      ]);
    }
    // make-tokens.sh writes the PSK file in nbdkit's format, with exactly those users.
    const script = fs.readFileSync(path.join(ROOT, 'deploy/auth/make-tokens.sh'), 'utf8');
    expect(script).toMatch(/printf 'rnull:%s\\n' "\$\(openssl rand -hex 32\)"/);
    expect(script).toMatch(/printf 'reader:%s\\n' "\$\(openssl rand -hex 32\)"/);
  });
});

describe('Redis users in docker-compose.yml (README "Security", DESIGN I20)', () => {
  const mounted = (svc: ComposeService): string[] =>
    (svc.secrets ?? []).map((x) => `/run/secrets/${typeof x === 'string' ? x : (x.target ?? x.source)}`);
  /** Where compose reads each secret from on the host, by secret name. */
  const secretFiles = async (): Promise<Record<string, string>> =>
    Object.fromEntries(
      Object.entries((parse((await composeConfig()).stdout) as { secrets: Record<string, { file: string }> }).secrets).map(([k, v]) => [
        k,
        v.file,
      ]),
    );

  it('runs redis with the ACL file of a secret, and each service as its own user with the password file of a secret', async () => {
    const services = await composeServices();
    const command = services.redis.command ?? [];
    const aclFile = command[command.indexOf('--aclfile') + 1];
    expect(mounted(services.redis)).toContain(aclFile);
    for (const name of SERVICES) {
      const env = services[name].environment ?? {};
      expect([name, env.REDIS_USERNAME, mounted(services[name]).includes(env.REDIS_PASSWORD_FILE ?? '-')]).toEqual([name, name, true]);
      expect(env.REDIS_URL).not.toMatch(/@/);
    }
    // /metrics reaches the host on its loopback only (Prometheus scrapes inside the network).
    const metricsPublished = (svc: ComposeService, http: number) =>
      (svc.ports ?? [])
        .map((p) => (typeof p === 'string' ? p.replace(/\/tcp$/, '') : `${p.published}:${p.target}`))
        .filter((p) => p.endsWith(`:${http}`));
    expect(metricsPublished(services.dispatch, DEFAULT_PORTS.dispatchHttp)).toEqual([
      `127.0.0.1:${DEFAULT_PORTS.dispatchHttp}-${DEFAULT_PORTS.dispatchHttp + 3}:${DEFAULT_PORTS.dispatchHttp}`,
    ]);
    expect(metricsPublished(services['nbd-gateway'], DEFAULT_PORTS.nbdGatewayHttp)).toEqual([
      `127.0.0.1:${DEFAULT_PORTS.nbdGatewayHttp}:${DEFAULT_PORTS.nbdGatewayHttp}`,
    ]);
    // The NBD gateway reaches Redis only through dispatch: no Redis settings, no Redis secret.
    expect(Object.keys(services['nbd-gateway'].environment ?? {}).filter((v) => v.startsWith('REDIS_'))).toEqual([]);
  });

  it('gets from deploy/auth/make-tokens.sh a user per service holding the SHA-256 of its password file, and a default user that may only PING', async () => {
    const services = await composeServices();
    const files = await secretFiles();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-auth-'));
    try {
      fs.copyFileSync(path.join(ROOT, 'deploy/auth/make-tokens.sh'), path.join(dir, 'make-tokens.sh'));
      await new Promise<void>((resolve, reject) =>
        execFile('sh', [path.join(dir, 'make-tokens.sh')], (err, _stdout, stderr) => (err ? reject(new Error(stderr)) : resolve())),
      );
      // The script writes the files compose names, under the same names.
      const inDir = (secret: string) => path.join(dir, path.basename(files[secret]));
      const acl = fs.readFileSync(inDir('redis-users-acl'), 'utf8').trim().split('\n');
      expect(acl[0]).toBe('user default on nopass resetchannels resetkeys -@all +ping');
      for (const name of SERVICES) {
        const secret = (services[name].environment?.REDIS_PASSWORD_FILE ?? '').replace('/run/secrets/', '');
        const password = fs.readFileSync(inDir(secret), 'utf8').trim();
        expect(password).toMatch(/^[0-9a-f]{64}$/);
        const hash = createHash('sha256').update(password).digest('hex');
        const line = acl.find((l) => l.startsWith(`user ${name} `));
        expect([name, line]).toEqual([name, expect.stringContaining(`user ${name} on #${hash} `)]);
        expect(line).toContain('-@dangerous');
        expect(acl.join('\n')).not.toContain(password);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The Dockerfile's stages, by name, with their instructions (continuation lines joined). */
function dockerfileStages(): Map<string, { from: string; lines: string[] }> {
  const text = read('Dockerfile').replace(/\\\n/g, ' ');
  const args = new Map<string, string>();
  const stages = new Map<string, { from: string; lines: string[] }>();
  let current: { from: string; lines: string[] } | undefined;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const arg = /^ARG\s+(\w+)=(\S+)/i.exec(line);
    if (arg && !current) args.set(arg[1], arg[2]);
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = { from: from[1].replace(/\$\{?(\w+)\}?/g, (_, n: string) => args.get(n) ?? ''), lines: [] };
      stages.set(from[2] ?? String(stages.size), current);
    } else current?.lines.push(line);
  }
  return stages;
}

describe('Dockerfile', () => {
  const stages = dockerfileStages();
  const runtime = stages.get('runtime')?.lines ?? [];
  const workdir =
    runtime
      .filter((l) => /^WORKDIR\s/i.test(l))
      .map((l) => l.split(/\s+/)[1])
      .at(-1) ?? '/';
  /** Where the runtime stage copies `source` (resolved against its WORKDIR). */
  const copied = (source: string): string | undefined => {
    const line = runtime.find((l) => /^COPY\s/i.test(l) && l.split(/\s+/).slice(1, -1).includes(source));
    return line === undefined ? undefined : path.posix.resolve(workdir, line.split(/\s+/).at(-1)!);
  };

  it('builds in a build stage and runs from a runtime stage with production dependencies only', () => {
    expect([...stages.keys()]).toEqual(['build', 'runtime']);
    expect([...stages.values()].map((s) => s.from)).toEqual(['node:20-bookworm-slim', 'node:20-bookworm-slim']);
    expect(stages.get('build')!.lines.filter((l) => /^RUN\s.*npm (ci|run build)\b/.test(l))).toHaveLength(2);
    expect(runtime.filter((l) => /^RUN\s.*\bnpm ci\b.*--omit=dev/.test(l))).toHaveLength(1);
    expect(runtime.filter((l) => /^USER\s/i.test(l)).at(-1)).toMatch(/^USER\s+(?!root\b|0\b)\S+/i);
    expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['node_modules', 'dist']));
  });

  it('has dist/ where package.json "imports" point, and proto/ where proto-files.ts looks', () => {
    const dist = copied('/app/dist');
    expect(dist).toBe(path.posix.join(workdir, 'dist'));
    expect(copied('package.json')).toBe(workdir);
    const imports = JSON.parse(read('package.json')).imports as Record<string, { default: string }>;
    expect(Object.values(imports).filter((target) => !target.default.startsWith('./dist/'))).toEqual([]);
    // libs/proto/src/proto-files.ts: <dist>/libs/proto/src/../../../proto or ../../../../proto.
    expect([path.posix.join(dist!, 'proto'), path.posix.join(dist!, '../proto')]).toContain(copied('proto'));
  });

  it('has the Lua scripts where luaDir() looks from the compiled redis-mq', () => {
    const dist = copied('/app/dist');
    const lua = copied('libs/redis-mq/src/lua');
    expect([dist, lua].every(Boolean)).toBe(true);
    const image = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-image-'));
    try {
      const inImage = (p: string): string => path.join(image, p);
      fs.mkdirSync(inImage(path.posix.join(dist!, 'libs/redis-mq/src')), { recursive: true });
      fs.mkdirSync(inImage(lua!), { recursive: true });
      expect(luaDir(inImage(path.posix.join(dist!, 'libs/redis-mq/src')))).toBe(inImage(lua!));
    } finally {
      fs.rmSync(image, { recursive: true, force: true });
    }
  });
});

it("Prometheus scrapes every service's /metrics port every 5 s, each dispatch, rnull and completion replica by DNS", () => {
  const prom = parse(read('deploy/prometheus/prometheus.yml')) as {
    global: { scrape_interval: string };
    scrape_configs: { static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; type: string; port: number }[] }[];
  };
  expect(prom.global.scrape_interval).toBe('5s');
  const staticTargets = prom.scrape_configs.flatMap((j) => (j.static_configs ?? []).flatMap((s) => s.targets));
  const dnsTargets = prom.scrape_configs.flatMap((j) =>
    (j.dns_sd_configs ?? []).filter((d) => d.type === 'A').flatMap((d) => d.names.map((n) => `${n}:${d.port}`)),
  );
  expect(staticTargets).toEqual(expect.arrayContaining([`gendisk:${HTTP_PORT.gendisk}`]));
  expect(dnsTargets).toEqual(
    expect.arrayContaining([`dispatch:${HTTP_PORT.dispatch}`, `rnull:${HTTP_PORT.rnull}`, `completion:${HTTP_PORT.completion}`]),
  );
});

it('Grafana gets the Prometheus data source and the dashboards folder provisioned', async () => {
  const grafana = (await composeServices()).grafana;
  expect(mounts(grafana)).toEqual(
    expect.arrayContaining([
      `${path.join(ROOT, 'deploy/grafana/provisioning')}:/etc/grafana/provisioning`,
      `${path.join(ROOT, 'deploy/grafana/dashboards')}:/var/lib/grafana/dashboards`,
    ]),
  );
  expect(grafana.environment).toMatchObject({ GF_AUTH_ANONYMOUS_ENABLED: 'true', GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer' });
  const datasources = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')).datasources;
  expect(datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true })]);
  const providers = parse(read('deploy/grafana/provisioning/dashboards/dashboards.yml')).providers;
  expect(providers).toEqual([
    expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }) }),
  ]);
  expect(fs.existsSync(path.join(ROOT, 'deploy/grafana/dashboards'))).toBe(true);
});
