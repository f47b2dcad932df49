/**
 * The audit API's answers as the audit tests read them (GET /admin/audit, GET /admin/audit/verify).
 */
export interface Entry {
	id: string;
	seq: number;
	actor: { id: string; email: string | null; role: string };
	action: string;
	entity: string;
	entity_id: string | null;
	before: Record<string, unknown> | null;
	after: Record<string, unknown> | null;
	trace_id: string | null;
	recovered: boolean;
	prev_hash: string;
	hash: string;
}
export interface PageBody<T> {
	rows: T[];
	total: number;
	page: number;
	page_size: number;
	total_pages: number;
}
export interface VerifyBody {
	ok: boolean;
	checked: number;
	head_seq: number;
	broken: { seq: number; id: string | null; reason: string; message: string } | null;
}
