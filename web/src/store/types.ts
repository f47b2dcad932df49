// The shapes of the API's answers the storefront reads (DESIGN section 3; money in the currency's units).

export interface Page<T> {
	rows: T[];
	total: number;
	page: number;
	page_size: number;
	total_pages: number;
}

export interface Product {
	id: string;
	name: string;
	description?: string;
	brand: string;
	category: string;
	price: number;
	currency: string;
	tags?: string[];
	rating_average: number;
	rating_count: number;
	shop_id: string | null;
	availability?: { available: number; in_stock: boolean };
}

export interface SearchAnswer extends Page<Product> {
	facets: { brand: Record<string, number>; category: Record<string, number> };
}

export interface Category {
	id: string;
	name: string;
	product_count: number;
}

export interface Shop {
	id: string;
	name: string;
	description?: string;
	status: string;
	product_count: number;
	rating_average: number;
	rating_count: number;
	created_at: string;
}

export interface Review {
	id: string;
	author: string;
	rating: number;
	comment: string;
	verified_purchase: boolean;
	created_at: string;
}

export interface Reviews extends Page<Review> {
	average_rating: number;
	count: number;
}

export interface User {
	id: string;
	email: string;
	name: string;
	role: string;
}

export interface Bill {
	subtotal: number;
	discount: number;
	shipping_fee: number;
	tax: number;
	tax_rate?: number;
	total: number;
	currency: string;
	voucher?: { code: string; discount: number };
}

export interface CartItem {
	product_id: string;
	name: string;
	price: number;
	quantity: number;
	line_total: number;
}

export interface Cart extends Bill {
	id: string;
	items: CartItem[];
	unavailable: Array<{ product_id: string; name?: string; reason?: string }>;
	country: string | null;
}

export interface Address {
	id: string;
	label?: string;
	street: string;
	city: string;
	postal_code?: string;
	country?: string;
}

export interface PaymentMethod {
	id: string;
	token: string;
	brand: string;
	last4: string;
}

export interface OrderItem {
	product_id: string;
	name: string;
	price: number;
	quantity: number;
}

export interface Order extends Bill {
	id: string;
	status: string;
	failure_reason: string | null;
	items: OrderItem[];
	payment_id: string | null;
	shipment_id: string | null;
	shipping_address: Address | string | null;
	history: Array<{ status: string; at: string; reason: string | null }>;
	created_at: string;
	updated_at: string;
}

export interface SagaStep {
	name: string;
	status: string;
	error?: { code: number; type: string; message: string };
}

/** POST /checkout's answer: 201/202 placed, 402/409/503 failed with the order and its saga. */
export interface CheckoutAnswer {
	order: Order;
	saga: { id: string; status: string; steps: SagaStep[] };
	trace_id: string;
}

/** One entry of GET /orders/:id/history (the order's audit trail). */
export interface HistoryEvent {
	seq: number;
	type: string;
	at: string;
	actor?: unknown;
	data?: unknown;
}
