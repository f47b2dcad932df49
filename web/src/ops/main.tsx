// The operations console's entry: mounts the console into #app.
import { render } from "preact";

/** The console (a placeholder the console grows from). */
function App() {
	return (
		<main>
			<h1>ShopFlow operations</h1>
		</main>
	);
}

render(<App />, document.getElementById("app")!);
