// Browsing: the catalog with category, brand and shop filters, and search with facets. The filters live in the
// hash's query (#/?category=audio, #/search?q=hub&brand=Anker), so every view is a link and the back button works.
import type { TargetedEvent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useApi } from "./data";
import { explain } from "./errors";
import { go, href, type Route } from "./router";
import type { Category, Page, Product, SearchAnswer, Shop } from "./types";
import { Alert, Pager, ProductGrid } from "./ui";

const PAGE_SIZE = 12;

type Query = Record<string, string | undefined>;

function queryOf(route: Route, keys: string[]): Query {
	return Object.fromEntries(keys.map(k => [k, route.query.get(k) ?? undefined]));
}

function apiQuery(q: Query): string {
	const s = new URLSearchParams();
	for (const [k, v] of Object.entries(q)) if (v) s.set(k, v);
	return s.toString();
}

/** A labelled select that navigates when it changes. */
function Filter(props: { id: string; label: string; value: string | undefined; options: Array<[string, string]>; onPick: (v: string) => void }) {
	return (
		<div class="field">
			<label for={props.id}>{props.label}</label>
			<select id={props.id} value={props.value ?? ""} onChange={e => props.onPick((e.currentTarget as HTMLSelectElement).value)}>
				<option value="">All</option>
				{props.options.map(([v, text]) => (
					<option key={v} value={v}>
						{text}
					</option>
				))}
			</select>
		</div>
	);
}

/** The catalog: every product, filtered by category, brand and shop, a page at a time. */
export function CatalogPage({ route }: { route: Route }) {
	const q = queryOf(route, ["category", "brand", "shop", "page"]);
	const products = useApi<Page<Product>>(`/products?${apiQuery({ ...q, page_size: String(PAGE_SIZE) })}`);
	const categories = useApi<{ rows: Category[] }>("/catalog/categories");
	const shops = useApi<Page<Shop>>("/shops?page_size=100");
	const brands = useApi<SearchAnswer>(`/search?${apiQuery({ category: q.category, page_size: "1" })}`);
	const pick = (key: string) => (v: string) => go(href("/", { ...q, [key]: v, page: undefined }));
	const current = products.data;
	return (
		<section aria-labelledby="catalog-title">
			<h1 id="catalog-title">Catalog</h1>
			<form class="filters" aria-label="Filters" onSubmit={e => e.preventDefault()}>
				<Filter id="f-category" label="Category" value={q.category} onPick={pick("category")} options={(categories.data?.rows ?? []).map(c => [c.id, `${c.name} (${c.product_count})`])} />
				<Filter
					id="f-brand"
					label="Brand"
					value={q.brand}
					onPick={pick("brand")}
					options={Object.entries({ ...(q.brand ? { [q.brand]: 0 } : {}), ...(brands.data?.facets.brand ?? {}) })
						.sort(([a], [b]) => a.localeCompare(b))
						.map(([b, n]) => [b, n > 0 ? `${b} (${n})` : b])}
				/>
				<Filter id="f-shop" label="Shop" value={q.shop} onPick={pick("shop")} options={(shops.data?.rows ?? []).map(s => [s.id, s.name])} />
			</form>
			{products.error ? (
				<Alert>{explain(products.error)}</Alert>
			) : (
				<>
					<p class="muted count" aria-live="polite">
						{current ? `${current.total} product${current.total === 1 ? "" : "s"}` : "Loading…"}
					</p>
					<ProductGrid products={current?.rows ?? null} />
					{current && <Pager page={current.page} pages={current.total_pages} link={p => href("/", { ...q, page: p })} />}
				</>
			)}
		</section>
	);
}

const SORTS: Array<[string, string]> = [
	["relevance", "Best match"],
	["price_asc", "Price: low to high"],
	["price_desc", "Price: high to low"],
	["rating", "Rating"],
];

/** A facet: its values with their counts, each a toggle link (the chosen one pressed). */
function Facet({ title, counts, chosen, link }: { title: string; counts: Record<string, number>; chosen?: string; link: (v: string | undefined) => string }) {
	const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
	return (
		<fieldset class="facet">
			<legend>{title}</legend>
			<ul>
				{entries.map(([v, n]) => (
					<li key={v}>
						<a href={link(chosen === v ? undefined : v)} aria-current={chosen === v ? "true" : undefined} class={chosen === v ? "chosen" : undefined}>
							{v} <span class="muted">({n})</span>
							{chosen === v && (
								<>
									<span aria-hidden="true"> ✕</span>
									<span class="sr-only"> (remove this filter)</span>
								</>
							)}
						</a>
					</li>
				))}
				{entries.length === 0 && <li class="muted">None</li>}
			</ul>
		</fieldset>
	);
}

/** Search: words, sort and price range, narrowed by the brand and category facets. */
export function SearchPage({ route }: { route: Route }) {
	const q = queryOf(route, ["q", "brand", "category", "price_min", "price_max", "sort", "page"]);
	const answer = useApi<SearchAnswer>(`/search?${apiQuery({ ...q, page_size: String(PAGE_SIZE) })}`);
	const [words, setWords] = useState(q.q ?? "");
	const [min, setMin] = useState(q.price_min ?? "");
	const [max, setMax] = useState(q.price_max ?? "");
	useEffect(() => {
		setWords(q.q ?? "");
		setMin(q.price_min ?? "");
		setMax(q.price_max ?? "");
	}, [q.q, q.price_min, q.price_max]);
	const submit = (e: TargetedEvent<HTMLFormElement>) => {
		e.preventDefault();
		go(href("/search", { ...q, q: words.trim(), price_min: min, price_max: max, page: undefined }));
	};
	const data = answer.data;
	return (
		<section aria-labelledby="search-title">
			<h1 id="search-title">Search</h1>
			<form class="searchbar" role="search" onSubmit={submit}>
				<div class="field grow">
					<label for="s-q">Search products</label>
					<input id="s-q" type="search" value={words} onInput={e => setWords(e.currentTarget.value)} placeholder="e.g. headphones" />
				</div>
				<div class="field narrow">
					<label for="s-min">Min $</label>
					<input id="s-min" type="number" min="0" inputMode="decimal" value={min} onInput={e => setMin(e.currentTarget.value)} />
				</div>
				<div class="field narrow">
					<label for="s-max">Max $</label>
					<input id="s-max" type="number" min="0" inputMode="decimal" value={max} onInput={e => setMax(e.currentTarget.value)} />
				</div>
				<div class="field">
					<label for="s-sort">Sort by</label>
					<select id="s-sort" value={q.sort ?? "relevance"} onChange={e => go(href("/search", { ...q, sort: e.currentTarget.value, page: undefined }))}>
						{SORTS.map(([v, t]) => (
							<option key={v} value={v}>
								{t}
							</option>
						))}
					</select>
				</div>
				<button type="submit" class="primary">
					Search
				</button>
			</form>
			<div class="with-side">
				<aside class="facets" aria-label="Facets">
					<Facet title="Brand" counts={data?.facets.brand ?? {}} chosen={q.brand} link={v => href("/search", { ...q, brand: v, page: undefined })} />
					<Facet title="Category" counts={data?.facets.category ?? {}} chosen={q.category} link={v => href("/search", { ...q, category: v, page: undefined })} />
				</aside>
				<div>
					{answer.error ? (
						<Alert>{explain(answer.error)}</Alert>
					) : (
						<>
							<p class="muted count" aria-live="polite">
								{data ? `${data.total} result${data.total === 1 ? "" : "s"}${q.q ? ` for “${q.q}”` : ""}` : "Searching…"}
							</p>
							<ProductGrid products={data?.rows ?? null} empty="Nothing matches; try fewer words or remove a filter." />
							{data && <Pager page={data.page} pages={data.total_pages} link={p => href("/search", { ...q, page: p })} />}
						</>
					)}
				</div>
			</div>
		</section>
	);
}
