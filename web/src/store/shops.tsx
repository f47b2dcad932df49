// The marketplace's shops: the list, and a shop's page with its products.
import { useApi } from "./data";
import { explain } from "./errors";
import { href, type Route } from "./router";
import type { Page, Product, Shop } from "./types";
import { Alert, Pager, ProductGrid, Stars } from "./ui";

/** Every active shop. */
export function ShopsPage() {
	const shops = useApi<Page<Shop>>("/shops?page_size=100");
	return (
		<section aria-labelledby="shops-title">
			<h1 id="shops-title">Shops</h1>
			{shops.error && <Alert>{explain(shops.error)}</Alert>}
			<ul class="shop-list" aria-busy={shops.data ? "false" : "true"}>
				{(shops.data?.rows ?? Array.from({ length: 4 }, () => null)).map((s, i) =>
					s ? (
						<li key={s.id} class="shop-card">
							<a href={`#/shop/${encodeURIComponent(s.id)}`}>
								<strong>{s.name}</strong>
							</a>
							<span class="muted">{s.description}</span>
							<span class="muted small">
								{s.product_count} products {s.rating_count > 0 && <Stars rating={s.rating_average} count={s.rating_count} />}
							</span>
						</li>
					) : (
						<li key={i} class="shop-card skeleton">
							<span class="bar" />
							<span class="bar short" />
						</li>
					),
				)}
			</ul>
		</section>
	);
}

/** A shop's page: who it is and what it sells. */
export function ShopPage({ id, route }: { id: string; route: Route }) {
	const page = route.query.get("page") ?? "1";
	const shop = useApi<Shop>(`/shops/${encodeURIComponent(id)}`);
	const products = useApi<Page<Product>>(`/products?shop=${encodeURIComponent(id)}&page=${encodeURIComponent(page)}&page_size=12`);
	if (shop.error) return <Alert>{shop.error.status === 404 ? "There is no such shop." : explain(shop.error)}</Alert>;
	const s = shop.data;
	return (
		<section aria-labelledby="shop-title">
			<nav class="crumbs" aria-label="Breadcrumb">
				<a href="#/shops">Shops</a>
			</nav>
			<h1 id="shop-title">{s ? s.name : <span class="bar" />}</h1>
			<p class="muted shop-about">{s ? s.description : ""}</p>
			<p class="muted small">
				{s ? (
					<>
						{s.product_count} products · on ShopFlow since {new Date(s.created_at).toLocaleDateString("en-US", { month: "long", year: "numeric" })}
						{s.rating_count > 0 && (
							<>
								{" · "}
								<Stars rating={s.rating_average} count={s.rating_count} />
							</>
						)}
					</>
				) : (
					" "
				)}
			</p>
			{products.error ? <Alert>{explain(products.error)}</Alert> : <ProductGrid products={products.data?.rows ?? null} empty="This shop has no products yet." />}
			{products.data && <Pager page={products.data.page} pages={products.data.total_pages} link={p => href(`/shop/${id}`, { page: p })} />}
		</section>
	);
}
