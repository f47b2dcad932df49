/**
 * The password-facing methods of the `users` service: checking a password under the login throttle, upgrading an
 * old hash at login, forgetting what the cacher holds of a user after a profile change, creating the admin account.
 */
import type { Logger, ServiceBroker } from "moleculer";
import type { Config } from "../../config/env";
import { DuplicateKeyError, type Repository } from "../../mixins/db.mixin";
import { DUMMY_HASH, hashPassword, needsRehash, verifyPassword } from "./password";
import type { AttemptSubject, LoginThrottle } from "./login-throttle";
import { newUser, type UserDoc } from "./model";
import { DEMO_SELLERS } from "../shops/client";

/** Tells every users node to drop its cached token resolutions (a profile changed); see forgetCachedUser. */
export const TOKENS_CHANGED_BROADCAST = "cache.clean.users.tokens";

interface CredentialsThis {
	broker: ServiceBroker;
	logger: Logger;
	config: Config;
	throttle: LoginThrottle;
	collection<T extends { id: string }>(name: string): Repository<T>;
}

export interface CredentialMethods {
	checkPassword(subject: AttemptSubject, password: string, hash: string | undefined): Promise<boolean>;
	upgradeHash(user: UserDoc, password: string): Promise<void>;
	forgetCachedUser(userId: string, tokensChanged: boolean): Promise<void>;
	ensureAdmin(): Promise<void>;
	ensureDemoSellers(): Promise<number>;
}

export const credentialMethods = {
	/** Checks a password under the throttle: 429 while the account or address is locked; counts the outcome. */
	async checkPassword(this: CredentialsThis, subject: AttemptSubject, password: string, hash: string | undefined): Promise<boolean> {
		const attempt = await this.throttle.begin(subject);
		// An unknown account costs one hash too, so that its answer takes as long as a wrong password's.
		const ok = (await verifyPassword(password, hash ?? DUMMY_HASH)) && hash !== undefined;
		if (ok) await this.throttle.succeeded(attempt);
		else await this.throttle.failed(attempt);
		return ok;
	},

	/** Replaces a hash of an older cost (password.ts says which) while the right password is at hand. */
	async upgradeHash(this: CredentialsThis, user: UserDoc, password: string): Promise<void> {
		if (!needsRehash(user.password_hash)) return;
		const password_hash = await hashPassword(password);
		// Only if the hash is still the one checked: a password change in between wins.
		await this.collection<UserDoc>("users").updateWhere({ id: user.id, password_hash: user.password_hash }, { $set: { password_hash } });
	},

	/**
	 * Drops what the cacher holds of a user, so that the next request sees the change: `users.get`, and after a new
	 * name or password every cached token resolution (they are keyed by token, not by user), on every node.
	 */
	async forgetCachedUser(this: CredentialsThis, userId: string, tokensChanged: boolean): Promise<void> {
		await this.broker.cacher?.clean(`users.get:${userId}*`);
		if (!tokensChanged) return;
		await this.broker.cacher?.clean("users.resolveToken:**");
		// A Redis cache is one for all nodes; memory caches are one per node.
		if (this.broker.cacher?.constructor.name !== "RedisCacher") await this.broker.broadcast(TOKENS_CHANGED_BROADCAST, {}, { groups: ["users"] });
	},

	/** Creates the admin account from ADMIN_EMAIL/ADMIN_PASSWORD when it does not exist yet. */
	async ensureAdmin(this: CredentialsThis): Promise<void> {
		const users = this.collection<UserDoc>("users");
		if (await users.findOne({ email: this.config.adminEmail })) return;
		try {
			await users.insert(newUser(this.config.adminEmail, "Administrator", await hashPassword(this.config.adminPassword), "admin"));
		} catch (err) {
			if (err instanceof DuplicateKeyError) return; // another users node created it first
			throw err;
		}
		if (this.config.adminPasswordIsDefault && !this.config.isTest)
			this.logger.warn(
				`Admin account created: ${this.config.adminEmail} with the development default password "admin-password". Set ADMIN_PASSWORD to choose another.`,
			);
		else this.logger.info(`Admin account created: ${this.config.adminEmail}`);
	},

	/** The demo sellers' accounts (SEED_DEMO_DATA), with fixed ids that their demo shops name as owners. */
	async ensureDemoSellers(this: CredentialsThis): Promise<number> {
		const users = this.collection<UserDoc>("users");
		let n = 0;
		for (const seller of DEMO_SELLERS) {
			if ((await users.findById(seller.user_id)) || (await users.findOne({ email: seller.email }))) continue;
			try {
				await users.insert({ id: seller.user_id, ...newUser(seller.email, seller.name, await hashPassword(seller.password), "customer") });
				n++;
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err; // another users node created it first
			}
		}
		return n;
	},
};

export const credentialEvents = {
	/** Another users node changed a profile: drop this node's cached token resolutions. */
	async [TOKENS_CHANGED_BROADCAST](this: CredentialsThis): Promise<void> {
		await this.broker.cacher?.clean("users.resolveToken:**");
	},
};
