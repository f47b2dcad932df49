/**
 * The REST routes, all under /api/v1. Who may call what is declared on each action
 * (`auth`, `roles`), not here, so that a route and its rule cannot drift apart.
 */
export const apiAliases: Record<string, string> = {
	// accounts
	"POST /users/register": "users.register",
	"POST /users/login": "users.login",
	"GET /account/profile": "users.me",
	"PUT /account/profile": "users.updateProfile",
	"GET /account/addresses": "users.listAddresses",
	"POST /account/addresses": "users.addAddress",
	"PUT /account/addresses/:id": "users.updateAddress",
	"DELETE /account/addresses/:id": "users.removeAddress",
	"GET /account/payment-methods": "users.listPaymentMethods",
	"POST /account/payment-methods": "users.addPaymentMethod",
	"DELETE /account/payment-methods/:id": "users.removePaymentMethod",
	"GET /account/notifications": "notifications.list",
	"GET /account/review-requests": "reviews.requests",

	// catalog
	"GET /products": "products.list",
	"POST /products": "products.create",
	"GET /products/:id": "products.get",
	"PUT /products/:id": "products.update",
	"DELETE /products/:id": "products.remove",
	"GET /catalog": "products.list",
	"GET /catalog/categories": "products.categories",
	"GET /catalog/:id": "products.get",
	"GET /search": "search.query",
	"GET /reviews": "reviews.list",
	"POST /reviews": "reviews.create",
	"GET /inventory/:product_id": "inventory.levels",
	"PUT /inventory/:product_id": "inventory.setLevel",
	"POST /inventory/:product_id/restock": "inventory.restock",

	// marketplace: shops and their sellers
	"GET /shops": "shops.list",
	"POST /shops": "shops.create",
	"GET /shops/:id": "shops.get",
	"POST /shops/:shop_id/products": "products.createInShop",
	"POST /admin/shops/:id/approve": "shops.approve",
	"POST /admin/shops/:id/suspend": "shops.suspend",
	"GET /shops/:id/orders": "orders.forShop",
	"POST /shops/:id/shipments/:shipment_id/deliver": "shipping.deliverForShop",
	"GET /shops/:id/balance": "ledger.balance",
	"POST /admin/orders/:id/refund": "orders.refund",
	"POST /admin/orders/rebuild": "orders.rebuild",

	// cart, checkout, orders, shipping
	"GET /cart": "cart.get",
	"POST /cart/add": "cart.add",
	"PUT /cart/items/:product_id": "cart.update",
	"DELETE /cart/items/:product_id": "cart.remove",
	"DELETE /cart": "cart.clear",
	"POST /cart/voucher": "cart.applyVoucher",
	"DELETE /cart/voucher": "cart.removeVoucher",
	"POST /checkout": "checkout.start",
	"GET /orders": "orders.list",
	"GET /orders/:id": "orders.get",
	"GET /orders/:id/history": "orders.history",
	"POST /orders/:id/cancel": "orders.cancel",
	"GET /payments": "payments.list",
	"GET /payments/:id": "payments.get",
	"GET /shipments/:id": "shipping.get",
	"POST /shipments/:id/deliver": "shipping.deliver",

	// vouchers (admin)
	"POST /admin/vouchers": "vouchers.create",
	"GET /admin/vouchers": "vouchers.list",
	"GET /admin/vouchers/:code": "vouchers.get",
	"PUT /admin/vouchers/:code": "vouchers.update",
	"DELETE /admin/vouchers/:code": "vouchers.remove",

	// settings, feature flags, preferences
	"GET /settings": "settings.public",
	"GET /admin/settings": "settings.get",
	"PUT /admin/settings": "settings.update",
	"GET /admin/flags": "settings.flags",
	"PUT /admin/flags/:name": "settings.setFlag",
	"GET /account/preferences": "settings.preferences",
	"PUT /account/preferences": "settings.updatePreferences",

	// operations (admin)
	"GET /admin/sagas/:id": "orders.sagaLog",
	"GET /admin/dead-letters": "api.deadLetters",
	"POST /admin/dead-letters/:id/redrive": "api.redriveDeadLetter",
	"GET /traces/:trace_id": "api.trace",
	"GET /admin/ops/stream": "api.opsStream",
	"GET /admin/ops/snapshot": "api.opsSnapshot",
	"GET /admin/chaos/scenarios": "api.chaosScenarios",
	"POST /admin/chaos/runs": "api.chaosStart",
	"GET /admin/chaos/runs/:id": "api.chaosRun",

	// audit trail (admin)
	"GET /admin/audit": "audit.list",
	"GET /admin/audit/verify": "audit.verify",
};
