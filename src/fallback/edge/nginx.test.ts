import { describe, expect, test } from 'vitest';
import { main } from '../../cli/main.js';

type Io = NonNullable<Parameters<typeof main>[1]>;

import { AppError } from '../../core/errors.js';
import { bannerScriptTag, nginxEdgeConfig, outagePage } from './nginx.js';

const base = {
  origin: 'http://10.0.0.5:3000',
  mirrorDir: '/srv/keepwarm/mirror/current',
  cacheDir: '/var/cache/keepwarm-edge',
  sdkDir: '/opt/keepwarm/web/sdk',
  listen: 8080,
  bannerUrls: ['https://status.example.com/status/banner.json', 'https://backup.example.net/status/banner.json'],
};

function problem(input: Record<string, unknown>): AppError {
  try {
    nginxEdgeConfig({ ...base, ...input } as Parameters<typeof nginxEdgeConfig>[0]);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected the options to be rejected');
}

describe('nginxEdgeConfig', () => {
  test('origin upstream with timeouts, stale cache, interception to the mirror, outage page', () => {
    const conf = nginxEdgeConfig({ ...base, connectTimeout: '2s', readTimeout: '20s', retryAfter: 300 });
    expect(conf).toContain('server 10.0.0.5:3000 max_fails=1 fail_timeout=10s;');
    expect(conf).toContain('proxy_connect_timeout 2s;');
    expect(conf).toContain('proxy_read_timeout 20s;');
    expect(conf).toContain('proxy_cache_use_stale error timeout http_500 http_502 http_503 http_504 updating;');
    expect(conf).toContain('proxy_intercept_errors on;');
    expect(conf).toContain('error_page 500 502 503 504 = @mirror;');
    expect(conf).toContain('root "/srv/keepwarm/mirror/current";');
    expect(conf).toContain('try_files $uri $uri/index.html $uri.html @outage;');
    expect(conf).toContain('add_header Retry-After 300 always;');
    expect(conf).toContain('keys_zone=keepwarm_showroom:10m');
    expect(conf).toContain('listen 8080;');
    for (const script of ['keepwarm-banner.js', 'keepwarm-events.js', 'keepwarm-flags.js']) {
      expect(conf).toContain(`location = /sdk/${script} {\n    alias "/opt/keepwarm/web/sdk/${script}";`);
    }
    // An http-context file for conf.d unless standalone.
    expect(conf).not.toContain('events {');
    expect(nginxEdgeConfig({ ...base, standalone: true })).toContain('events {');
  });

  test('the banner script carries every banner URL, escaped inside the nginx string', () => {
    const conf = nginxEdgeConfig(base);
    expect(conf).toContain(
      'sub_filter "</body>" "<script src=\\"/sdk/keepwarm-banner.js\\" data-urls=\\"https://status.example.com/status/banner.json https://backup.example.net/status/banner.json\\" async></script></body>";',
    );
    expect(bannerScriptTag(["https://s.example.com/b.json?a=1&b='x'"])).toBe(
      '<script src="/sdk/keepwarm-banner.js" data-urls="https://s.example.com/b.json?a=1&amp;b=%27x%27" async></script>',
    );
    expect(nginxEdgeConfig({ ...base, injectBanner: false })).not.toContain('sub_filter');
  });

  test('the outage page links the catalog and the status page and has the banner', () => {
    const page = outagePage({ bannerUrls: base.bannerUrls, statusUrl: 'https://status.example.com/', retryAfter: 60 });
    expect(page).toContain('about 1 minute.');
    expect(page).toContain('<a href="https://status.example.com/">');
    expect(page).toContain('<a href="/">Browse the offline catalog</a>');
    expect(page).toContain('data-urls="https://status.example.com/status/banner.json');
  });

  test('https origin: TLS to the upstream with SNI', () => {
    const conf = nginxEdgeConfig({ ...base, origin: 'https://shop.example.com' });
    expect(conf).toContain('server shop.example.com:443');
    expect(conf).toContain('proxy_pass https://keepwarm_showroom_origin;');
    expect(conf).toContain('proxy_ssl_name shop.example.com;');
  });

  test('signed-in buyers bypass the cache', () => {
    const conf = nginxEdgeConfig({ ...base, sessionCookie: 'showroom_session' });
    expect(conf).toContain('proxy_no_cache $http_authorization $cookie_showroom_session;');
    expect(conf).toContain('proxy_cache_bypass $http_authorization $cookie_showroom_session;');
  });

  test('bad options are rejected naming the field; nothing can smuggle nginx syntax in', () => {
    expect(problem({ origin: 'ftp://x' }).message).toContain('origin: origin must be an absolute http(s) URL');
    expect(problem({ origin: 'http://shop.example.com/app' }).message).toContain('origin:');
    expect(problem({ mirrorDir: 'mirror' }).message).toContain('mirrorDir: mirror must be an absolute path');
    expect(problem({ mirrorDir: '/srv/m"; include /etc/passwd; #' }).message).toContain('mirrorDir:');
    expect(problem({ cacheDir: '/srv/$document_root' }).message).toContain('cacheDir:');
    expect(problem({ listen: 70000 }).message).toContain('listen:');
    expect(problem({ bannerUrls: [] }).message).toContain('bannerUrls:');
    expect(problem({ bannerUrls: ['https://x.example.com/$host'] }).message).toContain('bannerUrls.0:');
    expect(problem({ readTimeout: '10 seconds' }).message).toContain('readTimeout:');
    expect(problem({ name: 'My Shop' }).message).toContain('name:');
    expect(problem({ origin: 'ftp://x' }).status).toBe(400);
  });
});

describe('keepwarm edge nginx', () => {
  const run = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['edge', 'nginx', ...args], {
      stdout: { write: (s: string) => out.push(s) } as unknown as Io['stdout'],
      stderr: { write: (s: string) => err.push(s) } as unknown as Io['stderr'],
    });
    return { code, out: out.join(''), err: err.join('') };
  };

  test('prints the config to standard output', async () => {
    const res = await run([
      '--origin',
      'http://127.0.0.1:3000',
      '--mirror',
      '/srv/mirror',
      '--listen',
      '8080',
      '--banner-url',
      'https://status.example.com/status/banner.json',
    ]);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toContain('error_page 500 502 503 504 = @mirror;');
  });

  test('invalid input: exit 2 and the field named', async () => {
    const res = await run([
      '--origin',
      'not a url',
      '--mirror',
      '/srv/mirror',
      '--listen',
      '8080',
      '--banner-url',
      'https://status.example.com/status/banner.json',
    ]);
    expect(res.code).toBe(2);
    expect(res.err).toContain('origin: origin must be an absolute http(s) URL');
  });
});
