// The storefront's entry: mounts the shop's pages into #app.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../lib/api";

interface Product {
	id: string;
	name: string;
}

/** The first page: the catalog (a placeholder the storefront grows from). */
function App() {
	const [products, setProducts] = useState<Product[] | null>(null);
	useEffect(() => {
		void api<{ rows: Product[] }>("GET", "/products").then(r => setProducts(r.rows));
	}, []);
	return (
		<main>
			<h1>ShopFlow</h1>
			<ul>{products?.map(p => <li key={p.id}>{p.name}</li>)}</ul>
		</main>
	);
}

render(<App />, document.getElementById("app")!);
