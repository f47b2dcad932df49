/**
 * Text handling for search: tokens are lower-cased, accent-free words with a light plural stemming, so
 * "Laptops" finds "laptop" and "headphones" finds "Headphones". Pure code.
 */
const STOP_WORDS = new Set(["a", "an", "and", "the", "of", "for", "with", "to", "in", "on", "by", "or", "at", "from", "your", "up"]);

/** A word reduced to a common form for plurals ("batteries" -> "battery", "laptops" -> "laptop"). */
export function stem(word: string): string {
	if (word.length <= 3 || /\d/.test(word)) return word;
	if (word.endsWith("ies") && word.length > 4) return `${word.slice(0, -3)}y`;
	if (/(ches|shes|sses|xes|zes)$/.test(word)) return word.slice(0, -2);
	if (word.endsWith("s") && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
	return word;
}

/** The search tokens of a text, in order, stop words dropped. */
export function tokenize(text: string): string[] {
	return text
		.normalize("NFKD")
		.replace(/[\u0300-\u036f]/g, "")
		.toLowerCase()
		.replace(/['\u2019]s\b/g, "")
		.replace(/['\u2019]/g, "")
		.split(/[^a-z0-9]+/)
		.filter(t => t.length > 0 && !STOP_WORDS.has(t))
		.map(stem);
}

/** Lower-cased, single-spaced text for phrase matches. */
export function normalisePhrase(text: string): string {
	return tokenize(text).join(" ");
}
