/**
 * Small writes on the catalog's collections that several actions share.
 */
import { DuplicateKeyError, type Repository } from "../../mixins/db.mixin";
import { categoryTitle, type CategoryDoc } from "./model";

/** Inserts a document unless one with its id exists; returns whether it was inserted. */
export async function insertIfAbsent<T extends { id: string }>(repo: Repository<T>, doc: T): Promise<boolean> {
	try {
		await repo.insert(doc);
		return true;
	} catch (err) {
		if (err instanceof DuplicateKeyError) return false;
		throw err;
	}
}

/** Stores a category for a slug that has none yet, named after the slug. */
export async function ensureCategory(categories: Repository<CategoryDoc>, slug: string): Promise<void> {
	if (await categories.findById(slug)) return;
	await insertIfAbsent(categories, { id: slug, name: categoryTitle(slug) });
}
