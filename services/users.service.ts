/**
 * The `users` service: accounts, login with JWTs, profile, saved addresses and payment methods.
 * Passwords are hashed with scrypt; no response or log line carries a password or its hash.
 */
import { randomUUID } from "node:crypto";
import type { Context } from "moleculer";
import { configOf, type Config } from "../config/env";
import { createKeyValueStore, type KeyValueStore } from "../mixins/kv/store";
import { DbMixin, DuplicateKeyError, type DbMethods } from "../mixins/db.mixin";
import { EventsMixin, STAGED_EVENTS_FIELD, type EventsMethods, type StagedEvent } from "../mixins/events.mixin";
import { uuid } from "./common/ids";
import { EVENTS } from "./common/events";
import { ConflictError, NotFoundError, UnauthorizedError, ValidationFailedError } from "./common/errors";
import { created, requireUser, type AuthUser, type ShopMeta } from "./common/meta";
import { defineService, withoutNulls, type ServiceThis } from "./common/schema";
import { hashPassword } from "./users/password";
import { signupHashing, signupWaitMs, SignupsBusyError } from "./users/hash-slots";
import { LoginThrottle } from "./users/login-throttle";
import { credentialEvents, credentialMethods, type CredentialMethods } from "./users/credentials";
import { signToken, verifyToken } from "./users/jwt";
import {
	looksLikeCardNumber,
	newUser,
	normaliseEmail,
	toPublicUser,
	type Address,
	type NotificationChannel,
	type PaymentMethod,
	type PublicUser,
	type UserDoc,
} from "./users/model";
import { PAYMENT_TOKEN, resolvePayment, resolveShippingAddress, type PaymentChoice, type ShippingAddress } from "./users/checkout";
import { addressParams, addressUpdateParams, profileParams, resolveCheckoutParams, type AddressInput, type AddressUpdateInput } from "./users/params";

interface RegisterParams {
	email: string;
	password: string;
	name: string;
}
interface LoginParams {
	email: string;
	password: string;
}
interface TokenParams {
	token: string;
}
interface ProfileUpdateParams {
	name?: string;
	password?: string;
	current_password?: string;
	notification_channel?: NotificationChannel;
}
interface IdParams {
	id: string;
}
interface PaymentMethodParams {
	token: string;
	brand: string;
	last4: string;
}
interface CheckoutDetailsParams {
	user_id: string;
	shipping_address: string | AddressInput;
	payment_method: string;
}
export interface CheckoutDetails {
	user: PublicUser;
	shipping_address: ShippingAddress;
	payment: PaymentChoice;
}
interface AuthResult {
	user: PublicUser;
	token: string;
}

/** How many addresses, and how many payment methods, one user may save. */
const MAX_SAVED = 50;

interface UsersMethods extends DbMethods, EventsMethods, CredentialMethods {
	pushSaved(userId: string, field: "addresses" | "payment_methods", entry: Address | PaymentMethod): Promise<void>;
	loadUser(id: string): Promise<UserDoc>;
	issueToken(user: UserDoc): string;
}
interface UsersVars {
	config: Config;
	kv: KeyValueStore;
	throttle: LoginThrottle;
}
type UsersThis = ServiceThis<UsersVars, UsersMethods>;
/** The gateway adds the caller's address (its rate-limit key), which password guesses are throttled by. */
type Ctx<P> = Context<P, ShopMeta & { client_address?: string }>;

const UsersService = defineService<UsersVars, UsersMethods>({
	name: "users",
	mixins: [DbMixin({ users: { indexes: [{ fields: ["email"], unique: true }] } }), EventsMixin({ stagedIn: ["users"] })],

	actions: {
		/** Creates a customer account and signs it in. */
		register: {
			// Password hashing queues up under a burst of sign-ups: it gets its own time, and it is never retried (a
			// retry after a timeout would find the account the first attempt created and answer EMAIL_TAKEN).
			timeout: 30_000,
			retryPolicy: { enabled: false },
			params: {
				email: { type: "email", normalize: true, max: 254 },
				password: { type: "string", min: 8, max: 200 },
				name: { type: "string", min: 1, max: 100, trim: true },
			},
			async handler(this: UsersThis, ctx: Ctx<RegisterParams>): Promise<AuthResult> {
				const email = normaliseEmail(ctx.params.email);
				// A sign-up that cannot get a hashing slot before its caller gives up is refused, not created after the caller left.
				const hashed = await signupHashing.run(() => hashPassword(ctx.params.password), signupWaitMs(ctx));
				if (!hashed.ok) throw new SignupsBusyError();
				const doc = { id: uuid(), ...newUser(email, ctx.params.name, hashed.value, "customer") };
				// user.registered goes in with the account, so a crash right after the insert cannot lose it.
				const registered = this.stageEvent(ctx, EVENTS.USER_REGISTERED, { user_id: doc.id, email: doc.email, name: doc.name });
				let user: UserDoc;
				try {
					user = await this.collection<UserDoc>("users").insert({ ...doc, [STAGED_EVENTS_FIELD]: [registered] });
				} catch (err) {
					if (err instanceof DuplicateKeyError)
						throw new ConflictError(`email: an account with ${email} already exists`, "EMAIL_TAKEN", { field: "email" });
					throw err;
				}
				await this.publishStaged("users", user.id, [registered as unknown as StagedEvent]).catch(err =>
					this.logger.warn(`user.registered of ${user.id} left for the relay: ${String(err)}`),
				);
				created(ctx, "/api/v1/account/profile");
				return { user: toPublicUser(user), token: this.issueToken(user) };
			},
		},

		/** Exchanges email and password for a token; the same 401 for an unknown email and a wrong password. */
		login: {
			params: {
				email: { type: "email", normalize: true, max: 254 },
				password: { type: "string", min: 1, max: 200 },
			},
			async handler(this: UsersThis, ctx: Ctx<LoginParams>): Promise<AuthResult> {
				const email = normaliseEmail(ctx.params.email);
				const user = await this.collection<UserDoc>("users").findOne({ email });
				const ok = await this.checkPassword({ account: email, address: ctx.meta.client_address }, ctx.params.password, user?.password_hash);
				if (!user || !ok) throw new UnauthorizedError("Invalid email or password", "INVALID_CREDENTIALS");
				await this.upgradeHash(user, ctx.params.password);
				return { token: this.issueToken(user), user: toPublicUser(user) };
			},
		},

		/** The user a token stands for; cached briefly because every authenticated request asks. */
		resolveToken: {
			visibility: "public",
			params: { token: { type: "string", min: 1, max: 4096 } },
			cache: { keys: ["token"], ttl: 60 },
			async handler(this: UsersThis, ctx: Ctx<TokenParams>): Promise<AuthUser> {
				const res = verifyToken(ctx.params.token, this.config.jwtSecret);
				if (!res.ok)
					throw new UnauthorizedError(res.reason === "expired" ? "Token has expired" : "Token is not valid", "INVALID_TOKEN");
				const user = await this.collection<UserDoc>("users").findById(res.claims.sub);
				if (!user) throw new UnauthorizedError("Token is not valid", "INVALID_TOKEN");
				if (res.claims.ver !== (user.token_version ?? 0))
					throw new UnauthorizedError("Token was revoked by a password change; log in again", "TOKEN_REVOKED");
				return { id: user.id, email: user.email, name: user.name, role: user.role };
			},
		},

		/** The caller's profile. */
		me: {
			auth: "required",
			async handler(this: UsersThis, ctx: Ctx<object>): Promise<PublicUser> {
				return toPublicUser(await this.loadUser(requireUser(ctx.meta).id));
			},
		},

		/** A user's public profile, for services that address the user (notifications). */
		get: {
			visibility: "public",
			params: { id: { type: "string", min: 1, max: 100 } },
			cache: { keys: ["id"], ttl: 30 },
			async handler(this: UsersThis, ctx: Ctx<IdParams>): Promise<PublicUser> {
				return toPublicUser(await this.loadUser(ctx.params.id));
			},
		},

		/** Changes name, notification channel or password (the latter needs the current one). */
		updateProfile: {
			auth: "required",
			params: profileParams,
			async handler(this: UsersThis, ctx: Ctx<ProfileUpdateParams>): Promise<PublicUser & { token?: string }> {
				const user = await this.loadUser(requireUser(ctx.meta).id);
				const set: Partial<UserDoc> = { updated_at: new Date().toISOString() };
				if (ctx.params.name !== undefined) set.name = ctx.params.name;
				if (ctx.params.notification_channel !== undefined) set.notification_channel = ctx.params.notification_channel;
				if (ctx.params.password !== undefined) {
					if (!ctx.params.current_password)
						throw new ValidationFailedError("current_password", "is required to change the password");
					const subject = { account: user.email, address: ctx.meta.client_address };
					if (!(await this.checkPassword(subject, ctx.params.current_password, user.password_hash)))
						throw new ValidationFailedError("current_password", "does not match", "WRONG_PASSWORD");
					set.password_hash = await hashPassword(ctx.params.password);
					// Every token issued before the change stops working; the answer carries a fresh one.
					set.token_version = (user.token_version ?? 0) + 1;
				}
				const updated = (await this.collection<UserDoc>("users").updateById(user.id, { $set: set })) ?? user;
				await this.forgetCachedUser(user.id, set.name !== undefined || set.token_version !== undefined);
				if (set.token_version === undefined) return toPublicUser(updated);
				return { ...toPublicUser(updated), token: this.issueToken(updated) };
			},
		},

		/** The caller's saved addresses. */
		listAddresses: {
			auth: "required",
			async handler(this: UsersThis, ctx: Ctx<object>): Promise<{ rows: Address[] }> {
				return { rows: (await this.loadUser(requireUser(ctx.meta).id)).addresses };
			},
		},

		/** Saves an address for the caller. */
		addAddress: {
			auth: "required",
			params: withoutNulls(addressParams),
			async handler(this: UsersThis, ctx: Ctx<AddressInput>): Promise<Address> {
				const userId = requireUser(ctx.meta).id;
				const address: Address = {
					id: `addr_${randomUUID().slice(0, 8)}`,
					label: ctx.params.label ?? null,
					street: ctx.params.street,
					city: ctx.params.city,
					postal_code: ctx.params.postal_code ?? null,
					country: ctx.params.country ?? null,
				};
				await this.pushSaved(userId, "addresses", address);
				created(ctx, `/api/v1/account/addresses/${address.id}`);
				return address;
			},
		},

		/** Changes fields of one of the caller's addresses. */
		updateAddress: {
			auth: "required",
			params: addressUpdateParams,
			async handler(this: UsersThis, ctx: Ctx<AddressUpdateInput>): Promise<Address> {
				const user = await this.loadUser(requireUser(ctx.meta).id);
				const { id, ...changes } = ctx.params;
				const current = user.addresses.find(a => a.id === id);
				if (!current) throw new NotFoundError("address", id);
				const updated: Address = { ...current, ...changes };
				const addresses = user.addresses.map(a => (a.id === id ? updated : a));
				await this.collection<UserDoc>("users").updateById(user.id, {
					$set: { addresses, updated_at: new Date().toISOString() },
				});
				return updated;
			},
		},

		/** Deletes one of the caller's addresses. */
		removeAddress: {
			auth: "required",
			params: { id: { type: "string", min: 1, max: 100 } },
			async handler(this: UsersThis, ctx: Ctx<IdParams>): Promise<{ id: string; deleted: true }> {
				const user = await this.loadUser(requireUser(ctx.meta).id);
				if (!user.addresses.some(a => a.id === ctx.params.id)) throw new NotFoundError("address", ctx.params.id);
				await this.collection<UserDoc>("users").updateById(user.id, {
					$set: { addresses: user.addresses.filter(a => a.id !== ctx.params.id), updated_at: new Date().toISOString() },
				});
				return { id: ctx.params.id, deleted: true };
			},
		},

		/** The caller's saved payment methods (tokens only, never card numbers). */
		listPaymentMethods: {
			auth: "required",
			async handler(this: UsersThis, ctx: Ctx<object>): Promise<{ rows: PaymentMethod[] }> {
				return { rows: (await this.loadUser(requireUser(ctx.meta).id)).payment_methods };
			},
		},

		/** Saves a tokenised payment method; a full card number is refused. */
		addPaymentMethod: {
			auth: "required",
			params: {
				token: { type: "string", min: 1, max: 64, trim: true },
				brand: { type: "string", min: 1, max: 30, trim: true },
				last4: { type: "string", min: 1, max: 30, trim: true },
			},
			async handler(this: UsersThis, ctx: Ctx<PaymentMethodParams>): Promise<PaymentMethod> {
				const { token, brand, last4 } = ctx.params;
				for (const [field, value] of Object.entries({ token, brand, last4 }))
					if (looksLikeCardNumber(value))
						throw new ValidationFailedError(field, "looks like a full card number; send a payment token such as card-456", "CARD_NUMBER_REFUSED");
				if (!PAYMENT_TOKEN.test(token))
					throw new ValidationFailedError("token", "must be 3 to 64 letters, digits, '-' or '_'");
				if (!/^\d{4}$/.test(last4)) throw new ValidationFailedError("last4", "must be exactly four digits");
				const method: PaymentMethod = {
					id: `pm_${randomUUID().slice(0, 8)}`,
					token,
					brand,
					last4,
					created_at: new Date().toISOString(),
				};
				await this.pushSaved(requireUser(ctx.meta).id, "payment_methods", method);
				created(ctx, `/api/v1/account/payment-methods/${method.id}`);
				return method;
			},
		},

		/** Deletes one of the caller's payment methods. */
		removePaymentMethod: {
			auth: "required",
			params: { id: { type: "string", min: 1, max: 100 } },
			async handler(this: UsersThis, ctx: Ctx<IdParams>): Promise<{ id: string; deleted: true }> {
				const user = await this.loadUser(requireUser(ctx.meta).id);
				if (!user.payment_methods.some(p => p.id === ctx.params.id)) throw new NotFoundError("payment method", ctx.params.id);
				await this.collection<UserDoc>("users").updateById(user.id, {
					$set: {
						payment_methods: user.payment_methods.filter(p => p.id !== ctx.params.id),
						updated_at: new Date().toISOString(),
					},
				});
				return { id: ctx.params.id, deleted: true };
			},
		},

		/**
		 * Resolves what a checkout names: a saved address id, an address object or one street line; a saved
		 * payment method id or a one-off payment token.
		 */
		resolveCheckout: {
			visibility: "public",
			params: resolveCheckoutParams,
			async handler(this: UsersThis, ctx: Ctx<CheckoutDetailsParams>): Promise<CheckoutDetails> {
				const user = await this.loadUser(ctx.params.user_id);
				return {
					user: toPublicUser(user),
					shipping_address: resolveShippingAddress(user, ctx.params.shipping_address),
					payment: resolvePayment(user, ctx.params.payment_method),
				};
			},
		},
	},

	// A profile change on another node clears this node's cached token resolutions.
	events: credentialEvents,

	methods: {
		...credentialMethods,

		/** Appends a saved address or payment method, refused with 422 once the user has MAX_SAVED of them. */
		async pushSaved(this: UsersThis, userId: string, field: "addresses" | "payment_methods", entry: Address | PaymentMethod): Promise<void> {
			const n = await this.collection<UserDoc>("users").updateWhere(
				{ id: userId, [`${field}.${MAX_SAVED - 1}`]: { $exists: false } },
				{ $push: { [field]: entry }, $set: { updated_at: new Date().toISOString() } },
			);
			if (n > 0) return;
			await this.loadUser(userId); // 404 when the user is gone
			throw new ValidationFailedError(field, `at most ${MAX_SAVED} can be saved; delete one first`, "TOO_MANY_SAVED");
		},

		/** The stored user, or a 404. */
		async loadUser(this: UsersThis, id: string): Promise<UserDoc> {
			const user = await this.collection<UserDoc>("users").findById(id);
			if (!user) throw new NotFoundError("user", id);
			return user;
		},

		/** A signed JWT for the user. */
		issueToken(this: UsersThis, user: UserDoc): string {
			return signToken(user.id, user.role, this.config.jwtSecret, this.config.jwtExpiresInSeconds, undefined, user.token_version ?? 0);
		},
	},

	created(this: UsersThis) {
		this.config = configOf(this);
		this.kv = createKeyValueStore(this.config.redisUrl, this.config.namespace);
		this.throttle = new LoginThrottle(this.kv, this.config.loginThrottle);
		if (this.config.jwtSecretIsDefault && !this.config.isTest)
			this.logger.warn("JWT_SECRET is not set: using the development secret. Set JWT_SECRET before exposing this node.");
	},

	async started(this: UsersThis) {
		await this.ensureAdmin();
		// Their password is public (README): never in production.
		if (this.config.seedDemoData && !this.config.isProduction) {
			const n = await this.ensureDemoSellers();
			if (n > 0) this.logger.info(`Demo seller accounts created: ${n} (README, "Demo marketplace")`);
		}
	},

	async stopped(this: UsersThis) {
		await this.kv.close();
	},
});

export default UsersService;
