/**
 * How many sign-up password hashes run at once in this process. scrypt runs on libuv's thread pool (4 threads
 * by default), first come first served: 60 sign-ups at once queued a concurrent login's hash behind all of them
 * (17.6 s instead of 0.2 s, audit D3). Sign-ups take at most two threads, so a login (or a password change)
 * always finds one free; a burst of sign-ups waits its turn here instead, and one that would wait past its
 * caller's time is refused with 503 SIGNUPS_BUSY before anything is created.
 */
import { Errors, type Context } from "moleculer";

/** Runs tasks with at most `max` of them in flight; the others wait in arrival order. */
export class ConcurrencyLimit {
	private running = 0;
	private readonly waiting: Array<() => void> = [];

	constructor(private readonly max: number) {}

	/** Runs the task when a slot is free; resolves false instead when none frees up within `maxWaitMs`. */
	async run<T>(task: () => Promise<T>, maxWaitMs = Number.POSITIVE_INFINITY): Promise<{ ok: true; value: T } | { ok: false }> {
		if (this.running >= this.max) {
			let timer: NodeJS.Timeout | undefined;
			const got = await new Promise<boolean>(resolve => {
				const take = () => {
					clearTimeout(timer);
					resolve(true);
				};
				this.waiting.push(take);
				if (Number.isFinite(maxWaitMs))
					timer = setTimeout(() => {
						this.waiting.splice(this.waiting.indexOf(take), 1);
						resolve(false);
					}, Math.max(0, maxWaitMs));
			});
			if (!got) return { ok: false };
		} else this.running++;
		try {
			return { ok: true, value: await task() };
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

/** 503: too many sign-ups at once; nothing was created, the same request may be sent again. */
export class SignupsBusyError extends Errors.MoleculerRetryableError {
	constructor() {
		super("Too many sign-ups at once; nothing was created, try again shortly", 503, "SIGNUPS_BUSY", { retry_after: 1 });
	}
}

/** How long a sign-up may wait for a hashing slot: what its call has left, less two seconds to hash and store. */
export function signupWaitMs(ctx: Context): number {
	const timeout = ctx.options?.timeout ?? 0;
	if (!(timeout > 0) || !ctx.startHrTime) return Number.POSITIVE_INFINITY;
	const [s, ns] = process.hrtime(ctx.startHrTime);
	return timeout - (s * 1000 + ns / 1e6) - 2_000;
}
