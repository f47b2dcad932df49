// Signing up and signing in: the token goes to localStorage (lib/api.ts), then back to where the shopper was.
import type { TargetedEvent } from "preact";
import { useState } from "preact/hooks";
import { api, ApiError } from "../lib/api";
import { explain } from "./errors";
import { go, href, type Route } from "./router";
import { signedIn } from "./session";
import type { User } from "./types";
import { Alert } from "./ui";

function fieldError(e: unknown): string {
	if (e instanceof ApiError && Array.isArray(e.data)) {
		const first = (e.data as Array<{ field?: string; message?: string }>)[0];
		if (first?.message) return first.message.replace(/^The '(\w+)' field/, (_, f: string) => `The ${f.replace(/_/g, " ")}`);
	}
	return explain(e);
}

/** The sign-in form, or with `signup` the sign-up form. */
export function SignInPage({ route, signup }: { route: Route; signup: boolean }) {
	const next = route.query.get("next") ?? "#/";
	const [name, setName] = useState("");
	const [email, setEmail] = useState("");
	const [password, setPassword] = useState("");
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState<string | null>(null);
	const submit = async (e: TargetedEvent<HTMLFormElement>) => {
		e.preventDefault();
		setBusy(true);
		setError(null);
		try {
			const r = signup
				? await api<{ user: User; token: string }>("POST", "/users/register", { name: name.trim(), email: email.trim(), password })
				: await api<{ user: User; token: string }>("POST", "/users/login", { email: email.trim(), password });
			signedIn(r.user, r.token);
			go(next.startsWith("#/signin") || next.startsWith("#/signup") ? "#/" : next);
		} catch (err) {
			setError(fieldError(err));
		} finally {
			setBusy(false);
		}
	};
	const title = signup ? "Create your account" : "Sign in";
	return (
		<section class="narrow-page" aria-labelledby="auth-title">
			<h1 id="auth-title">{title}</h1>
			<form class="stack" onSubmit={submit}>
				{signup && (
					<div class="field">
						<label for="a-name">Name</label>
						<input id="a-name" autoComplete="name" required maxLength={100} value={name} onInput={e => setName(e.currentTarget.value)} />
					</div>
				)}
				<div class="field">
					<label for="a-email">Email</label>
					<input id="a-email" type="email" autoComplete="email" required value={email} onInput={e => setEmail(e.currentTarget.value)} />
				</div>
				<div class="field">
					<label for="a-password">Password</label>
					<input
						id="a-password"
						type="password"
						autoComplete={signup ? "new-password" : "current-password"}
						required
						minLength={signup ? 8 : undefined}
						value={password}
						onInput={e => setPassword(e.currentTarget.value)}
						aria-describedby={signup ? "a-password-hint" : undefined}
					/>
					{signup && (
						<span id="a-password-hint" class="muted small">
							At least 8 characters.
						</span>
					)}
				</div>
				<div class="note-slot">{error && <Alert>{error}</Alert>}</div>
				<button type="submit" class="primary" disabled={busy}>
					{busy ? "One moment…" : signup ? "Sign up" : "Sign in"}
				</button>
			</form>
			<p>
				{signup ? "Have an account? " : "New here? "}
				<a href={href(signup ? "/signin" : "/signup", { next })}>{signup ? "Sign in" : "Create an account"}</a>
			</p>
		</section>
	);
}
