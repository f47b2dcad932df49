// Loading an API answer into a page: the answer, the error, and a reload, with stale answers dropped when the
// path changes before the previous one arrived.
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../lib/api";
import { go, href } from "./router";
import { signOut } from "./session";

export interface Loaded<T> {
	data: T | null;
	error: ApiError | null;
	reload: () => void;
	set: (data: T) => void;
}

/** GETs `/api/v1<path>` (null skips); a 401 signs out and sends the shopper to sign in. */
export function useApi<T>(path: string | null): Loaded<T> {
	const [data, setData] = useState<T | null>(null);
	const [error, setError] = useState<ApiError | null>(null);
	const [tick, setTick] = useState(0);
	useEffect(() => {
		if (path === null) return;
		let live = true;
		setError(null);
		api<T>("GET", path).then(
			d => live && setData(d),
			(e: unknown) => {
				if (!live) return;
				const err = e instanceof ApiError ? e : new ApiError(0, "NETWORK", "The shop could not be reached; check your connection", null);
				if (err.status === 401) needSignIn();
				setError(err);
			},
		);
		return () => {
			live = false;
		};
	}, [path, tick]);
	const reload = useCallback(() => setTick(t => t + 1), []);
	return { data, error, reload, set: setData };
}

/** Signs out a stale session and opens the sign-in page, coming back here afterwards. */
export function needSignIn(): void {
	signOut();
	const back = location.hash || "#/";
	if (!back.startsWith("#/signin")) go(href("/signin", { next: back }));
}
