// Checkout: a saved (or new) shipping address and payment method, the bill for that address's country, and one
// button that places one order. The Idempotency-Key is made once per attempt and kept when the answer was lost
// (503 CHECKOUT_OUTCOME_UNKNOWN), so pressing again, or twice, is still one order and one charge.
import type { TargetedEvent } from "preact";
import { useRef, useState } from "preact/hooks";
import { api, ApiError, token } from "../lib/api";
import { randomKey } from "../lib/format";
import { needSignIn, useApi } from "./data";
import { explain, messageForType } from "./errors";
import { go } from "./router";
import { refreshCart } from "./session";
import type { Address, Cart, CheckoutAnswer, PaymentMethod } from "./types";
import { Alert, BillTable } from "./ui";

/** POST /checkout with its key: the placed order, or an error whose words come from the failed saga step. */
async function placeOrder(body: unknown, key: string): Promise<{ status: number; answer: CheckoutAnswer }> {
	const res = await fetch("/api/v1/checkout", {
		method: "POST",
		headers: { Accept: "application/json", "Content-Type": "application/json", Authorization: `Bearer ${token() ?? ""}`, "Idempotency-Key": key },
		body: JSON.stringify(body),
	});
	const json = (await res.json().catch(() => null)) as (CheckoutAnswer & { type?: string; message?: string; data?: unknown }) | null;
	if (res.ok && json?.order) return { status: res.status, answer: json };
	if (json?.order) {
		// A failed order: the saga tells which step failed and why (PAYMENT_DECLINED, INSUFFICIENT_STOCK, VOUCHER_UNAVAILABLE…).
		const failed = json.saga?.steps.find(s => s.error);
		const type = failed?.error?.type ?? json.order.failure_reason ?? `HTTP_${res.status}`;
		throw new ApiError(res.status, type, messageForType(type) ?? messageForType(json.order.failure_reason ?? "") ?? failed?.error?.message ?? "The order failed", { order_id: json.order.id });
	}
	throw new ApiError(res.status, json?.type ?? `HTTP_${res.status}`, json?.message ?? res.statusText, json?.data);
}

/** A form to save a new address. */
function NewAddress({ onSaved }: { onSaved: (a: Address) => void }) {
	const [f, setF] = useState({ label: "", street: "", city: "", postal_code: "", country: "" });
	const [error, setError] = useState<string | null>(null);
	const box = useRef<HTMLDetailsElement>(null);
	const field = (k: keyof typeof f, label: string, opts: { required?: boolean; auto?: string } = {}) => (
		<div class="field">
			<label for={`na-${k}`}>{label}</label>
			<input id={`na-${k}`} required={opts.required} autoComplete={opts.auto} value={f[k]} onInput={e => setF({ ...f, [k]: e.currentTarget.value })} />
		</div>
	);
	const save = async (e: TargetedEvent<HTMLFormElement>) => {
		e.preventDefault();
		setError(null);
		const body = Object.fromEntries(Object.entries(f).filter(([, v]) => v.trim() !== ""));
		try {
			onSaved(await api<Address>("POST", "/account/addresses", body));
			setF({ label: "", street: "", city: "", postal_code: "", country: "" });
			if (box.current) box.current.open = false;
		} catch (err) {
			setError(explain(err));
		}
	};
	return (
		<details class="add-new" ref={box}>
			<summary>Add a new address</summary>
			<form class="stack" onSubmit={save} aria-label="New address">
				{field("label", "Label (e.g. Home)")}
				{field("street", "Street", { required: true, auto: "street-address" })}
				<div class="row">
					{field("city", "City", { required: true, auto: "address-level2" })}
					{field("postal_code", "Postal code", { auto: "postal-code" })}
				</div>
				{field("country", "Country code (e.g. US)", { auto: "country" })}
				{error && <Alert>{error}</Alert>}
				<button type="submit">Save address</button>
			</form>
		</details>
	);
}

/** A form to save a payment method: the token your payment provider gave, never a card number. */
function NewPayment({ onSaved }: { onSaved: (p: PaymentMethod) => void }) {
	const [f, setF] = useState({ token: "", brand: "", last4: "" });
	const [error, setError] = useState<string | null>(null);
	const box = useRef<HTMLDetailsElement>(null);
	const save = async (e: TargetedEvent<HTMLFormElement>) => {
		e.preventDefault();
		setError(null);
		try {
			onSaved(await api<PaymentMethod>("POST", "/account/payment-methods", { token: f.token.trim(), brand: f.brand.trim(), last4: f.last4.trim() }));
			setF({ token: "", brand: "", last4: "" });
			if (box.current) box.current.open = false;
		} catch (err) {
			setError(explain(err));
		}
	};
	return (
		<details class="add-new" ref={box}>
			<summary>Add a payment method</summary>
			<form class="stack" onSubmit={save} aria-label="New payment method">
				<div class="field">
					<label for="np-token">Card token (from your payment provider, e.g. card-456)</label>
					<input id="np-token" required autoComplete="off" value={f.token} onInput={e => setF({ ...f, token: e.currentTarget.value })} />
				</div>
				<div class="row">
					<div class="field">
						<label for="np-brand">Brand</label>
						<input id="np-brand" required value={f.brand} onInput={e => setF({ ...f, brand: e.currentTarget.value })} />
					</div>
					<div class="field">
						<label for="np-last4">Last 4 digits</label>
						<input id="np-last4" required inputMode="numeric" pattern="[0-9]{4}" maxLength={4} value={f.last4} onInput={e => setF({ ...f, last4: e.currentTarget.value })} />
					</div>
				</div>
				{error && <Alert>{error}</Alert>}
				<button type="submit">Save payment method</button>
			</form>
		</details>
	);
}

function addressLine(a: Address): string {
	return [a.label && `${a.label}:`, a.street, a.city, a.postal_code, a.country].filter(Boolean).join(" ");
}

/** The checkout page. */
export function CheckoutPage() {
	const addresses = useApi<{ rows: Address[] }>("/account/addresses");
	const methods = useApi<{ rows: PaymentMethod[] }>("/account/payment-methods");
	const [addressId, setAddressId] = useState<string | null>(null);
	const [methodId, setMethodId] = useState<string | null>(null);
	const addressList = addresses.data?.rows ?? [];
	const methodList = methods.data?.rows ?? [];
	const address = addressList.find(a => a.id === addressId) ?? addressList[0];
	const method = methodList.find(m => m.id === methodId) ?? methodList[0];
	const cart = useApi<Cart>(addresses.data ? `/cart${address?.country ? `?country=${encodeURIComponent(address.country)}` : ""}` : null);
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState<string | null>(null);
	const attempt = useRef<{ key: string; inFlight: boolean } | null>(null);

	const place = async () => {
		if (attempt.current?.inFlight) return; // a second click of the same attempt: the first one is on its way
		if (!address || !method) return setError("Choose a shipping address and a payment method first.");
		attempt.current = { key: attempt.current?.key ?? randomKey(), inFlight: true };
		setBusy(true);
		setError(null);
		try {
			const { answer } = await placeOrder({ shipping_address: address.id, payment_method: method.id }, attempt.current.key);
			attempt.current = null;
			void refreshCart();
			go(`#/order/${encodeURIComponent(answer.order.id)}?placed=1`);
		} catch (e) {
			const lost = e instanceof TypeError || (e instanceof ApiError && (e.type === "CHECKOUT_OUTCOME_UNKNOWN" || e.type === "SHUTTING_DOWN"));
			// A lost answer keeps its key (the next press asks for the same order); any other answer ends the attempt.
			attempt.current = lost && attempt.current ? { key: attempt.current.key, inFlight: false } : null;
			if (e instanceof ApiError && e.status === 401) return needSignIn();
			setError(e instanceof TypeError ? (messageForType("NETWORK") ?? "") : explain(e));
			if (e instanceof ApiError && e.data && typeof e.data === "object" && "order_id" in e.data) cart.reload();
		} finally {
			setBusy(false);
		}
	};

	const c = cart.data;
	const loading = !addresses.data || !methods.data;
	return (
		<section aria-labelledby="checkout-title" aria-busy={loading ? "true" : "false"}>
			<h1 id="checkout-title">Checkout</h1>
			{(addresses.error ?? methods.error ?? cart.error) && <Alert>{explain(addresses.error ?? methods.error ?? cart.error)}</Alert>}
			<div class="with-side">
				<div class="stack">
					<fieldset class="choices">
						<legend>Shipping address</legend>
						{loading && <span class="bar" />}
						{addresses.data && addressList.length === 0 && <p class="muted">No saved addresses yet; add one below.</p>}
						{addressList.map(a => (
							<label key={a.id} class="choice">
								<input type="radio" name="address" value={a.id} checked={a.id === address?.id} onChange={() => setAddressId(a.id)} />
								<span>{addressLine(a)}</span>
							</label>
						))}
						<NewAddress
							onSaved={a => {
								addresses.set({ rows: [...addressList, a] });
								setAddressId(a.id);
							}}
						/>
					</fieldset>
					<fieldset class="choices">
						<legend>Payment method</legend>
						{loading && <span class="bar" />}
						{methods.data && methodList.length === 0 && <p class="muted">No saved payment methods yet; add one below.</p>}
						{methodList.map(m => (
							<label key={m.id} class="choice">
								<input type="radio" name="payment" value={m.id} checked={m.id === method?.id} onChange={() => setMethodId(m.id)} />
								<span>
									{m.brand} ending in {m.last4}
								</span>
							</label>
						))}
						<NewPayment
							onSaved={m => {
								methods.set({ rows: [...methodList, m] });
								setMethodId(m.id);
							}}
						/>
					</fieldset>
				</div>
				<aside class="summary" aria-label="Order summary">
					<h2>Your order</h2>
					{!c ? (
						<div class="bill-skeleton" />
					) : (
						<>
							<ul class="summary-lines">
								{c.items.map(i => (
									<li key={i.product_id}>
										{i.quantity} × {i.name}
									</li>
								))}
							</ul>
							<BillTable bill={c} />
						</>
					)}
					<div class="note-slot">{error && <Alert>{error}</Alert>}</div>
					<button type="button" class="primary wide" disabled={busy || !c || c.items.length === 0} onClick={() => void place()}>
						{busy ? "Placing your order…" : "Place order"}
					</button>
					{c && c.items.length === 0 && (
						<p class="muted small">
							Your cart is empty. <a href="#/">Browse the catalog</a>.
						</p>
					)}
					<p>
						<a href="#/cart">Back to cart</a>
					</p>
				</aside>
			</div>
		</section>
	);
}
