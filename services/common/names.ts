/**
 * Moleculer service names and the seed's names that users may use for them (behavior, REPL, SERVICES).
 */
export const SERVICE_NAMES = [
	"api",
	"users",
	"products",
	"search",
	"inventory",
	"reviews",
	"cart",
	"checkout",
	"orders",
	"payments",
	"shipping",
	"notifications",
	"vouchers",
	"settings",
	"shops",
	"ledger",
	"audit",
] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

export const SEED_ALIASES: Record<string, ServiceName> = {
	"api-gateway": "api",
	"user-management": "users",
	"product-catalog": "products",
	"shopping-cart": "cart",
	"order-management": "orders",
	payment: "payments",
	notification: "notifications",
	voucher: "vouchers",
	shop: "shops",
};

/** The Moleculer name for a Moleculer or seed name, or null when it names no service. */
export function resolveServiceName(name: string): ServiceName | null {
	const n = name.trim().toLowerCase();
	if ((SERVICE_NAMES as readonly string[]).includes(n)) return n as ServiceName;
	// Own keys only: `__proto__` or `constructor` name no service.
	return Object.hasOwn(SEED_ALIASES, n) ? SEED_ALIASES[n] : null;
}
