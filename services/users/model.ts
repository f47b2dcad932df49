/**
 * The user document and what of it leaves the service. Pure code.
 */
import type { Role } from "../common/meta";

export interface Address {
	id: string;
	label: string | null;
	street: string;
	city: string;
	postal_code: string | null;
	country: string | null;
}

export interface PaymentMethod {
	id: string;
	token: string;
	brand: string;
	last4: string;
	created_at: string;
}

export type NotificationChannel = "email" | "sms" | "push";

export interface UserDoc {
	id: string;
	email: string;
	name: string;
	password_hash: string;
	/** Raised by a password change; tokens issued before it stop working. */
	token_version?: number;
	role: Role;
	notification_channel: NotificationChannel;
	addresses: Address[];
	payment_methods: PaymentMethod[];
	created_at: string;
	updated_at: string;
	/** `user.registered`, staged in the insert and removed once published. */
	pending_events?: unknown[];
}

export interface PublicUser {
	id: string;
	email: string;
	name: string;
	role: Role;
	notification_channel: NotificationChannel;
	created_at: string;
	updated_at: string;
}

/** The user as clients see it: never the password hash. */
export function toPublicUser(u: UserDoc): PublicUser {
	return {
		id: u.id,
		email: u.email,
		name: u.name,
		role: u.role,
		notification_channel: u.notification_channel ?? "email",
		created_at: u.created_at,
		updated_at: u.updated_at,
	};
}

/** Lower-cases and trims an email address. */
export function normaliseEmail(email: string): string {
	return email.trim().toLowerCase();
}

/** Whether a string holds what looks like a full card number (13 to 19 digits, spaces or dashes allowed). */
export function looksLikeCardNumber(value: string): boolean {
	const digits = value.replace(/[\s-]/g, "");
	return /\d{13,19}/.test(digits) || /(\d[\s-]?){13,19}/.test(value);
}

/** A new user document with no addresses or payment methods yet. */
export function newUser(email: string, name: string, passwordHash: string, role: Role): Omit<UserDoc, "id"> {
	const now = new Date().toISOString();
	return {
		email,
		name,
		password_hash: passwordHash,
		role,
		notification_channel: "email",
		addresses: [],
		payment_methods: [],
		created_at: now,
		updated_at: now,
	};
}
