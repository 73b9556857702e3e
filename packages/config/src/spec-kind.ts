/** The kinds of value the config description (spec.ts) is made of, and two shorthands. */
export type Spec =
  | { readonly kind: "string"; readonly description?: string; readonly enum?: readonly string[] }
  | {
      readonly kind: "integer";
      readonly description?: string;
      readonly minimum?: number;
      readonly maximum?: number;
    }
  | { readonly kind: "boolean"; readonly description?: string }
  | { readonly kind: "array"; readonly description?: string; readonly items: Spec }
  | {
      readonly kind: "object";
      readonly description?: string;
      readonly fields: Readonly<Record<string, Spec>>;
      readonly required?: readonly string[];
      /** Names refused on purpose, with the reason the error gives (a secret that belongs in a file, say). */
      readonly refused?: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: "map";
      readonly description?: string;
      readonly values: Spec;
      /** At most this many entries (a one-entry map is `{ key: value }` in a list). */
      readonly maxEntries?: number;
    }
  | { readonly kind: "union"; readonly description?: string; readonly options: readonly Spec[] };

export const str = (description: string, values?: readonly string[]): Spec =>
  values === undefined ? { kind: "string", description } : { kind: "string", description, enum: values };
export const strings = (description: string): Spec => ({
  kind: "array",
  description,
  items: { kind: "string" },
});
