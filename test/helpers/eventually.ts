/**
 * Waiting helpers for tests of asynchronous flows (events, caches, read models).
 */

/** Retries a check until it passes or `ms` have gone by; the last failure is thrown. */
export async function eventually(check: () => void | Promise<void>, ms = 3000, every = 10): Promise<void> {
	const end = Date.now() + ms;
	for (;;) {
		try {
			await check();
			return;
		} catch (err) {
			if (Date.now() > end) throw err;
			await new Promise(r => setTimeout(r, every));
		}
	}
}

