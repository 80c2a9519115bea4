/**
 * What a drill breaks: the entry points of a showroom (the demo's, in the same process, or a
 * staging origin's, through its control endpoint). Side effects live here; the drill runner only
 * calls break and restore.
 */
import { request } from 'undici';
import type { DrillScenario } from './scorecard.js';

export interface DrillTarget {
  /** "demo", or the staging origin's name. */
  readonly name: string;
  /** The component names each scenario takes down (their monitors must fail). */
  components(scenario: DrillScenario): readonly string[];
  break(scenario: DrillScenario): Promise<void>;
  restore(scenario: DrillScenario): Promise<void>;
}

/**
 * A staging showroom with a control endpoint: `POST {url}/break` and `POST {url}/restore` with
 * `{"scenario": …}` and `Authorization: Bearer {token}`, answering 2xx when done.
 */
export class HttpDrillTarget implements DrillTarget {
  readonly name: string;
  readonly #url: string;
  readonly #token: string;
  readonly #components: { readonly [K in DrillScenario]?: readonly string[] | undefined };

  constructor(options: {
    name: string;
    url: string;
    token: string;
    components: { readonly [K in DrillScenario]?: readonly string[] | undefined };
  }) {
    this.name = options.name;
    this.#url = options.url.replace(/\/$/, '');
    this.#token = options.token;
    this.#components = options.components;
  }

  components(scenario: DrillScenario): readonly string[] {
    return this.#components[scenario] ?? [];
  }

  async #post(action: 'break' | 'restore', scenario: DrillScenario): Promise<void> {
    const res = await request(`${this.#url}/${action}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scenario }),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300)
      throw new Error(`${this.name}: ${action} ${scenario} answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  }

  break(scenario: DrillScenario): Promise<void> {
    return this.#post('break', scenario);
  }

  restore(scenario: DrillScenario): Promise<void> {
    return this.#post('restore', scenario);
  }
}
