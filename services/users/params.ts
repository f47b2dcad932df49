/**
 * fastest-validator schemas for addresses, shared by the address actions and checkout resolution, and the profile.
 */
import { objectWithoutNulls, withoutNulls } from "../common/schema";

export interface AddressInput {
	label?: string;
	street: string;
	city: string;
	postal_code?: string;
	country?: string;
}

export type AddressUpdateInput = Partial<AddressInput> & { id: string };

export const addressParams = {
	label: { type: "string", min: 1, max: 50, trim: true, optional: true },
	street: { type: "string", min: 1, max: 200, trim: true },
	city: { type: "string", min: 1, max: 100, trim: true },
	postal_code: { type: "string", min: 1, max: 20, trim: true, optional: true },
	country: { type: "string", min: 2, max: 56, trim: true, optional: true },
} as const;

/** A change to a saved address: every field optional, none of them null (an order would ship to it). */
export const addressUpdateParams = withoutNulls({
	id: { type: "string", min: 1, max: 100 },
	label: { ...addressParams.label },
	street: { ...addressParams.street, optional: true },
	city: { ...addressParams.city, optional: true },
	postal_code: { ...addressParams.postal_code },
	country: { ...addressParams.country },
});

/** A change to the caller's profile: every field optional, none of them null. */
export const profileParams = withoutNulls(
	{
		name: { type: "string", min: 1, max: 100, trim: true, optional: true },
		password: { type: "string", min: 8, max: 200, optional: true },
		current_password: { type: "string", min: 1, max: 200, optional: true },
		notification_channel: { type: "enum", values: ["email", "sms", "push"], optional: true },
	},
	false,
);

/** `users.resolveCheckout`: a saved address id or a new address, and a saved payment method id or a one-off token. */
export const resolveCheckoutParams = {
	user_id: { type: "string", min: 1, max: 100 },
	shipping_address: [
		{ type: "string", min: 1, max: 300, trim: true },
		objectWithoutNulls(addressParams, "shipping_address"),
	],
	payment_method: { type: "string", min: 1, max: 64, trim: true },
};
