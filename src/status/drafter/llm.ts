/**
 * An adapter for any OpenAI-compatible chat-completions endpoint (OpenAI, Azure-style gateways,
 * Ollama, vLLM, llama.cpp server): POST {base}/chat/completions with the model and messages,
 * `Authorization: Bearer KEY` when a key is configured. Every failure is an LlmError with a short
 * reason; the drafter then keeps its deterministic draft.
 */
import { errorMessage } from '../../core/errors.js';

export interface LlmOptions {
  baseUrl: string;
  model: string;
  apiKey?: string | undefined;
  timeoutMs: number;
}

export type Fetch = typeof fetch;

export class LlmError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'LlmError';
  }
}

const MAX_RESPONSE_BYTES = 1_000_000;

export async function chatCompletion(
  options: LlmOptions,
  messages: ReadonlyArray<{ role: string; content: string }>,
  fetchImpl: Fetch = fetch,
): Promise<string> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  let response: Response;
  let text: string;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: options.model, messages, temperature: 0.2, n: 1 }),
      signal: AbortSignal.timeout(options.timeoutMs),
      redirect: 'error',
    });
    text = await response.text();
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new LlmError(`no answer within ${Math.round(options.timeoutMs / 100) / 10} s`);
    }
    throw new LlmError(`request failed: ${errorMessage(err)}`);
  }
  if (text.length > MAX_RESPONSE_BYTES) throw new LlmError('the response was too large');
  if (response.status < 200 || response.status >= 300) {
    throw new LlmError(`HTTP ${response.status}${text ? `: ${text.replace(/\s+/g, ' ').slice(0, 120)}` : ''}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new LlmError('the response was not JSON');
  }
  const content = (body as { choices?: Array<{ message?: { content?: unknown } }> })?.choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw new LlmError('the response had no choices[0].message.content');
  return content;
}
