/**
 * The params schemas of the settings actions (fastest-validator) beside their TypeScript types. Unknown fields
 * are refused (422 naming them), so a misspelt setting is never silently dropped.
 */
import { CHANNEL_NAMES, MAX_AMOUNT, type FlagName, type NotificationChannelName, type SettingsPatch } from "./model";

const AMOUNT = { type: "number", min: 0, max: MAX_AMOUNT, optional: true } as const;
const PERCENT = { type: "number", min: 0, max: 100, optional: true } as const;

export type UpdateSettingsParams = SettingsPatch;

export const updateSettingsParams = {
	$$strict: true,
	store_name: { type: "string", min: 1, max: 100, trim: true, optional: true },
	currency: { type: "string", length: 3, trim: true, uppercase: true, optional: true },
	shipping: {
		type: "object",
		strict: true,
		optional: true,
		props: { flat_fee: AMOUNT, free_over: { ...AMOUNT, nullable: true } },
	},
	tax: {
		type: "object",
		strict: true,
		optional: true,
		props: {
			default_rate: PERCENT,
			rates: { type: "record", optional: true, key: { type: "string", min: 2, max: 56, trim: true }, value: { type: "number", min: 0, max: 100 } },
		},
	},
	low_stock_threshold: { type: "number", integer: true, min: 0, max: 1_000_000, optional: true },
	marketplace: { type: "object", strict: true, optional: true, props: { commission_percent: PERCENT } },
} as const;

export interface SetFlagParams {
	name: FlagName;
	enabled: boolean;
}

export const setFlagParams = {
	name: { type: "string", min: 1, max: 50 },
	enabled: { type: "boolean" },
} as const;


export interface UpdatePreferencesParams {
	notification_channels?: Partial<Record<NotificationChannelName, boolean>>;
	language?: string;
}

export const updatePreferencesParams = {
	$$strict: true,
	notification_channels: {
		type: "object",
		strict: true,
		optional: true,
		props: Object.fromEntries(CHANNEL_NAMES.map(c => [c, { type: "boolean", optional: true }])),
	},
	language: { type: "string", min: 2, max: 35, trim: true, pattern: /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, optional: true },
} as const;

export interface UserParams {
	user_id: string;
}

export const userParams = { user_id: { type: "string", min: 1, max: 100 } } as const;
