// The one way the pages talk to the shop: JSON over /api/v1 with the signed-in user's token, and errors as the
// gateway's error shape ({name, message, code, type, data}).

/** An answer of the API that was not 2xx, with the gateway's error type (e.g. INSUFFICIENT_STOCK). */
export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly type: string,
		message: string,
		readonly data: unknown,
	) {
		super(message);
	}
}

const TOKEN_KEY = "shopflow.token";

/** The signed-in user's token, kept in the browser's local storage. */
export function token(): string | null {
	return localStorage.getItem(TOKEN_KEY);
}

/** Keeps (or with null forgets) the token of the signed-in user. */
export function setToken(value: string | null): void {
	if (value === null) localStorage.removeItem(TOKEN_KEY);
	else localStorage.setItem(TOKEN_KEY, value);
}

/** Calls `/api/v1<path>`; throws ApiError for any answer that is not 2xx. */
export async function api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
	const h: Record<string, string> = { Accept: "application/json", ...headers };
	const t = token();
	if (t) h.Authorization = `Bearer ${t}`;
	if (body !== undefined) h["Content-Type"] = "application/json";
	const res = await fetch(`/api/v1${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
	const text = await res.text();
	const json: unknown = text ? JSON.parse(text) : null;
	if (!res.ok) {
		const e = (json ?? {}) as { type?: string; message?: string; data?: unknown };
		throw new ApiError(res.status, e.type ?? `HTTP_${res.status}`, e.message ?? res.statusText, e.data);
	}
	return json as T;
}

/** Formats integer cents as money, e.g. 1999 → "$19.99". */
export function money(cents: number, currency = "USD"): string {
	return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(cents / 100);
}
