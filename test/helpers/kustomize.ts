/**
 * A small `kustomize build` for the tests: a Kustomization's resources (files, or folders with their own
 * kustomization.yaml), its `labels` (added to every object's metadata, and to pod templates with includeTemplates),
 * `namespace` and `images`. Any other field of a Kustomization is refused rather than silently ignored, so a base
 * that starts using one fails its test until the renderer learns it.
 */
import fs from "node:fs";
import path from "node:path";

// js-yaml is a dev dependency (also ESLint's): YAML 1.2, several documents per file.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require("js-yaml") as { load(text: string): unknown; loadAll(text: string): unknown[] };

export interface K8sObject {
	apiVersion: string;
	kind: string;
	metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
	[field: string]: unknown;
}

interface Kustomization {
	apiVersion?: string;
	kind?: string;
	resources?: string[];
	namespace?: string;
	labels?: Array<{ pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }>;
	images?: Array<{ name: string; newName?: string; newTag?: string }>;
}

const SUPPORTED = new Set(["apiVersion", "kind", "resources", "namespace", "labels", "images"]);

/** Reads a YAML file (one document). */
export function readYaml<T = unknown>(file: string): T {
	return yaml.load(fs.readFileSync(file, "utf8")) as T;
}

/** The objects `kustomize build <dir>` would print for the Kustomization in dir. */
export function renderKustomization(dir: string): K8sObject[] {
	const k = readYaml<Kustomization>(path.join(dir, "kustomization.yaml"));
	if (k.kind !== "Kustomization") throw new Error(`${dir}/kustomization.yaml is not a Kustomization`);
	const unsupported = Object.keys(k).filter(key => !SUPPORTED.has(key));
	if (unsupported.length) throw new Error(`${dir}/kustomization.yaml uses ${unsupported.join(", ")}, which this renderer does not know`);

	const objects: K8sObject[] = [];
	for (const entry of k.resources ?? []) {
		const full = path.join(dir, entry);
		if (fs.statSync(full).isDirectory()) objects.push(...renderKustomization(full));
		else for (const doc of yaml.loadAll(fs.readFileSync(full, "utf8"))) if (doc) objects.push(doc as K8sObject);
	}
	for (const o of objects) {
		for (const set of k.labels ?? []) {
			if (set.includeSelectors) throw new Error("labels with includeSelectors are not supported by this renderer");
			o.metadata.labels = { ...o.metadata.labels, ...set.pairs };
			const template = podTemplate(o);
			if (set.includeTemplates && template) template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...set.pairs } };
		}
		if (k.namespace) o.metadata.namespace = k.namespace;
		for (const c of containersOf(o)) {
			const [name, tag] = splitImage(c.image);
			const image = k.images?.find(i => i.name === name);
			if (image) c.image = `${image.newName ?? name}${image.newTag ? `:${image.newTag}` : tag ? `:${tag}` : ""}`;
		}
	}
	return objects;
}

interface PodTemplate {
	metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
	spec: { containers: Container[]; initContainers?: Container[]; [field: string]: unknown };
}

export interface Container {
	name: string;
	image: string;
	env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
	envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
	[field: string]: unknown;
}

/** The pod template of a workload (Deployment, StatefulSet, ...), or null for other kinds. */
export function podTemplate(o: K8sObject): PodTemplate | null {
	const spec = o.spec as { template?: PodTemplate } | undefined;
	return spec?.template?.spec ? spec.template : null;
}

/** Every container of a workload's pod template (init containers included). */
export function containersOf(o: K8sObject): Container[] {
	const t = podTemplate(o);
	return t ? [...(t.spec.initContainers ?? []), ...t.spec.containers] : [];
}

function splitImage(image: string): [string, string | undefined] {
	const at = image.lastIndexOf(":");
	return at > image.lastIndexOf("/") ? [image.slice(0, at), image.slice(at + 1)] : [image, undefined];
}
