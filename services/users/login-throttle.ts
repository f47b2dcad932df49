/**
 * Throttling of password guesses (login and password change), per account and per client address, on the shared
 * key-value store (Redis when REDIS_URL is set, so every users node sees the same counts).
 *
 * An account's attempts are counted before its password is checked (so a burst of parallel guesses cannot slip past
 * the count), for a window from the first one; a success forgets them. After `maxFailuresPerAccount` failures the
 * account is locked for `lockMs`, doubling with every further failure, never longer than the window; once a lock
 * ends, one attempt goes through and a failure locks again for twice as long. A client address is locked the same
 * way after `maxFailuresPerAddress` failures (its successes do not reset it, so a guesser cannot clear its address
 * by logging in to an account of its own). A locked caller gets 429 with Retry-After before any password is
 * checked. An unknown email is counted and locked exactly like a known one, so no answer tells whether an account
 * exists.
 */
import { createHash } from "node:crypto";
import { Errors } from "moleculer";
import type { KeyValueStore } from "../../mixins/kv/store";
import type { LoginThrottleSettings } from "../../config/env";

/** 429: too many failed attempts; `data.retry_after` (seconds) becomes the Retry-After header. */
export class TooManyAttemptsError extends Errors.MoleculerClientError {
	constructor(retryAfterSeconds: number) {
		super(`Too many failed attempts; try again in ${retryAfterSeconds} s`, 429, "TOO_MANY_ATTEMPTS", { retry_after: retryAfterSeconds });
	}
}

/** Who is guessing: the account (an email, or a user id for password changes) and the client address if known. */
export interface AttemptSubject {
	account: string;
	address?: string;
}

/** One attempt in progress: what begin() counted, for failed() and succeeded(). */
export interface Attempt {
	subject: AttemptSubject;
	accountCount: number;
}

export class LoginThrottle {
	constructor(
		private readonly kv: KeyValueStore,
		private readonly settings: LoginThrottleSettings,
		private readonly now: () => number = Date.now,
	) {}

	/** Admits an attempt or refuses it with 429 while the account or the address is locked. */
	async begin(subject: AttemptSubject): Promise<Attempt> {
		const account = accountKey(subject.account);
		const keys = subject.address ? [account, addressKey(subject.address)] : [account];
		const locks = await Promise.all(keys.map(k => this.kv.get(`login:lock:${k}`)));
		this.refuseWhileLocked(locks);
		const { count } = await this.kv.incrWindow(`login:fail:${account}`, this.settings.windowMs);
		const max = this.settings.maxFailuresPerAccount;
		// Past the allowance only the attempt that takes the next lock goes on (a lock that just ended, or a burst).
		if (count > max && !(await this.kv.setIfAbsent(`login:lock:${account}`, this.until(count - max), this.lockMs(count - max))))
			this.refuseWhileLocked([await this.kv.get(`login:lock:${account}`)], true);
		return { subject, accountCount: count };
	}

	/** Counts a failed attempt; the account or address that reached its allowance is locked. */
	async failed(attempt: Attempt): Promise<void> {
		const { subject, accountCount } = attempt;
		const max = this.settings.maxFailuresPerAccount;
		const account = accountKey(subject.account);
		if (accountCount >= max) await this.kv.set(`login:lock:${account}`, this.until(accountCount - max), this.lockMs(accountCount - max));
		if (!subject.address) return;
		const address = addressKey(subject.address);
		const { count } = await this.kv.incrWindow(`login:fail:${address}`, this.settings.windowMs);
		const maxAddress = this.settings.maxFailuresPerAddress;
		if (count >= maxAddress) await this.kv.set(`login:lock:${address}`, this.until(count - maxAddress), this.lockMs(count - maxAddress));
	}

	/** Forgets the account's failures and lock after a success. */
	async succeeded(attempt: Attempt): Promise<void> {
		const account = accountKey(attempt.subject.account);
		await Promise.all([this.kv.del(`login:fail:${account}`), this.kv.del(`login:lock:${account}`)]);
	}

	/** The lock after `over` failures beyond the allowance: lockMs, doubled each time, at most the window. */
	private lockMs(over: number): number {
		return Math.min(this.settings.windowMs, this.settings.lockMs * 2 ** Math.min(Math.max(over, 0), 30));
	}

	private until(over: number): string {
		return String(this.now() + this.lockMs(over));
	}

	/** Throws 429 when one of the lock values (their end, ms since the epoch) lies ahead; `always` even if none does. */
	private refuseWhileLocked(locks: Array<string | null>, always = false): void {
		const left = Math.max(0, ...locks.map(v => Number(v ?? 0))) - this.now();
		if (left > 0 || always) throw new TooManyAttemptsError(Math.max(1, Math.ceil(left / 1000)));
	}
}

/** The account part of a key: a hash, so that no email address is written into Redis. */
function accountKey(account: string): string {
	return `acct:${createHash("sha256").update(account).digest("base64url").slice(0, 32)}`;
}

function addressKey(address: string): string {
	return `addr:${address}`;
}
