/**
 * How many sign-up password hashes run at once in this process. scrypt runs on libuv's thread pool (4 threads
 * by default), first come first served: 60 sign-ups at once queued a concurrent login's hash behind all of them
 * (17.6 s instead of 0.2 s, audit D3). Sign-ups take at most two threads, so a login (or a password change)
 * always finds one free; a burst of sign-ups waits its turn here instead. Pure code.
 */

/** Runs tasks with at most `max` of them in flight; the others wait in arrival order. */
export class ConcurrencyLimit {
	private running = 0;
	private readonly waiting: Array<() => void> = [];

	constructor(private readonly max: number) {}

	async run<T>(task: () => Promise<T>): Promise<T> {
		if (this.running >= this.max) await new Promise<void>(resolve => this.waiting.push(resolve));
		else this.running++;
		try {
			return await task();
		} finally {
			const next = this.waiting.shift();
			// The slot passes straight to the next waiter, so a newcomer cannot overtake it.
			if (next) next();
			else this.running--;
		}
	}
}

/** Sign-ups' share of the thread pool: two of its four threads. */
export const signupHashing = new ConcurrencyLimit(2);
