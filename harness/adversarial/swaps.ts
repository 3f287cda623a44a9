/**
 * Swaps under load: `clients` loops predict back to back while the registry's production pointer
 * alternates between versions 1 and 2 and `POST /admin/reload` makes the server swap at once.
 * Every answer must be a 200 naming one of the two versions.
 */
import type { Registry } from '../../core/registry/index.ts';

export async function swapsUnderLoad(o: {
  url: string;
  registry: Registry;
  adminToken: string;
  swaps: number;
  clients: number;
  body: string;
  model?: string;
}): Promise<{ swaps: number; requests: number; errors: number; versions: number[] }> {
  const model = o.model ?? 'flight-delay';
  let running = true;
  let requests = 0;
  let errors = 0;
  const versions = new Set<number>();
  const client = async () => {
    while (running) {
      try {
        const res = await fetch(`${o.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: o.body,
        });
        const json = (await res.json()) as { model_version?: number };
        requests++;
        if (res.status !== 200 || (json.model_version !== 1 && json.model_version !== 2)) errors++;
        else versions.add(json.model_version);
      } catch {
        requests++;
        errors++;
      }
    }
  };
  const clients = Array.from({ length: o.clients }, client);
  let swaps = 0;
  try {
    let version = 1;
    for (let i = 0; i < o.swaps; i++) {
      await new Promise((r) => setTimeout(r, 300));
      version = version === 1 ? 2 : 1;
      await o.registry.setStage(model, 'production', version, {
        source: 'adversarial',
        reason: `swap ${i + 1} under load`,
      });
      const res = await fetch(`${o.url}/admin/reload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${o.adminToken}` },
      });
      const r = (await res.json()) as { status: string; version: number | null };
      // The server's own registry poll may have swapped first; then the reload finds it unchanged.
      if (res.status === 200 && r.version === version && (r.status === 'swapped' || r.status === 'unchanged')) swaps++;
    }
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    running = false;
    await Promise.all(clients);
  }
  return { swaps, requests, errors, versions: [...versions].sort() };
}
