// The storefront's entry: the header, and the page the hash names (#/, #/search, #/product/:id, #/cart, ...).
import { render } from "preact";
import { useEffect, useRef } from "preact/hooks";
import "./store.css";
import { SignInPage } from "./account";
import { CartPage } from "./cart";
import { CatalogPage, SearchPage } from "./catalog";
import { CheckoutPage } from "./checkout";
import { OrderPage, OrdersPage } from "./orders";
import { ProductPage } from "./product";
import { go, href, useRoute, type Route } from "./router";
import { refreshCart, signOut, useSession } from "./session";
import { ShopPage, ShopsPage } from "./shops";

/** Pages that need a signed-in shopper. */
const PRIVATE = new Set(["cart", "checkout", "orders", "order"]);

function Page({ route }: { route: Route }) {
	const [head, id] = route.parts;
	switch (head) {
		case undefined:
			return <CatalogPage route={route} />;
		case "search":
			return <SearchPage route={route} />;
		case "product":
			return <ProductPage key={id} id={id ?? ""} />;
		case "shops":
			return <ShopsPage />;
		case "shop":
			return <ShopPage key={id} id={id ?? ""} route={route} />;
		case "signin":
			return <SignInPage route={route} signup={false} />;
		case "signup":
			return <SignInPage route={route} signup />;
		case "cart":
			return <CartPage />;
		case "checkout":
			return <CheckoutPage />;
		case "orders":
			return <OrdersPage route={route} />;
		case "order":
			return <OrderPage key={id} id={id ?? ""} route={route} />;
		default:
			return (
				<p>
					There is no such page. <a href="#/">Go to the catalog</a>.
				</p>
			);
	}
}

/** The header: the shop's name, search, the pages, the cart with its count, and who is signed in. */
function Header({ route }: { route: Route }) {
	const { user, cartCount } = useSession();
	const here = route.parts[0] ?? "";
	const cur = (name: string) => (here === name ? "page" : undefined);
	return (
		<header class="top">
			<a class="skip" href="#main" onClick={e => {
					e.preventDefault();
					document.getElementById("main")?.focus();
				}}
			>
				Skip to content
			</a>
			<a class="brand" href="#/">
				ShopFlow
			</a>
			<form
				class="quick-search"
				role="search"
				onSubmit={e => {
					e.preventDefault();
					const q = (e.currentTarget.elements.namedItem("q") as HTMLInputElement).value.trim();
					go(href("/search", { q }));
				}}
			>
				<label for="top-q" class="sr-only">
					Search the shop
				</label>
				<input id="top-q" name="q" type="search" placeholder="Search the shop" />
				<button type="submit">Search</button>
			</form>
			<nav class="nav" aria-label="Main">
				<a href="#/" aria-current={cur("")}>
					Catalog
				</a>
				<a href="#/shops" aria-current={cur("shops")}>
					Shops
				</a>
				{user && (
					<a href="#/orders" aria-current={cur("orders")}>
						Orders
					</a>
				)}
				<a href="#/cart" aria-current={cur("cart")} class="cart-link">
					Cart <span class="count-badge" aria-label={`${cartCount} items`}>{cartCount}</span>
				</a>
				{user ? (
					<button
						type="button"
						class="link"
						onClick={() => {
							signOut();
							go("#/");
						}}
						title={user.email}
					>
						Sign out {user.name}
					</button>
				) : (
					<a href={href("/signin", { next: location.hash || "#/" })} aria-current={cur("signin")}>
						Sign in
					</a>
				)}
			</nav>
		</header>
	);
}

/** The storefront. */
function App() {
	const route = useRoute();
	const { user } = useSession();
	const main = useRef<HTMLElement>(null);
	const needsUser = PRIVATE.has(route.parts[0] ?? "") && !user;
	useEffect(() => {
		void refreshCart();
	}, []);
	useEffect(() => {
		if (needsUser) go(href("/signin", { next: location.hash }));
	}, [needsUser]);
	// A new page: move the focus to it (screen readers hear the change) and start at its top.
	const path = route.parts.join("/");
	const first = useRef(true);
	useEffect(() => {
		if (first.current) return void (first.current = false);
		main.current?.focus({ preventScroll: true });
		scrollTo(0, 0);
	}, [path]);
	return (
		<>
			<Header route={route} />
			<main id="main" ref={main} tabIndex={-1}>
				{needsUser ? null : <Page route={route} />}
			</main>
			<footer class="foot muted small">ShopFlow · a demo shop: cards are test tokens, nothing ships.</footer>
		</>
	);
}

render(<App />, document.getElementById("app")!);
