// Who is signed in and how many items their cart holds, shared by the header and the pages. The token lives in
// localStorage through lib/api.ts; the user's name and email beside it, for the header.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, setToken, token } from "../lib/api";
import type { Cart, User } from "./types";

const USER_KEY = "shopflow.user";

interface Session {
	user: User | null;
	cartCount: number;
}

function readUser(): User | null {
	if (!token()) return null;
	try {
		return JSON.parse(localStorage.getItem(USER_KEY) ?? "null") as User | null;
	} catch {
		return null;
	}
}

let state: Session = { user: readUser(), cartCount: 0 };
const listeners = new Set<(s: Session) => void>();

function update(change: Partial<Session>): void {
	state = { ...state, ...change };
	for (const l of listeners) l(state);
}

/** The session, re-rendering on sign-in, sign-out and cart changes. */
export function useSession(): Session {
	const [s, set] = useState(state);
	useEffect(() => {
		listeners.add(set);
		set(state);
		return () => void listeners.delete(set);
	}, []);
	return s;
}

/** Keeps a signed-in user's token and profile. */
export function signedIn(user: User, tok: string): void {
	setToken(tok);
	localStorage.setItem(USER_KEY, JSON.stringify({ id: user.id, email: user.email, name: user.name, role: user.role }));
	update({ user });
	void refreshCart();
}

/** Forgets the signed-in user. */
export function signOut(): void {
	setToken(null);
	localStorage.removeItem(USER_KEY);
	update({ user: null, cartCount: 0 });
}

/** Sets the header's cart count from a cart answer. */
export function cartChanged(cart: Cart): void {
	update({ cartCount: cart.items.reduce((n, i) => n + i.quantity, 0) });
}

/** Reads the cart for the header's count (signed in only); a stale token signs out. */
export async function refreshCart(): Promise<void> {
	if (!token()) return;
	try {
		cartChanged(await api<Cart>("GET", "/cart"));
	} catch (e) {
		if (e instanceof ApiError && e.status === 401) signOut();
	}
}
