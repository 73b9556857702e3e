import type { PackageDefinition } from "@grpc/proto-loader";
import type { Wire } from "./kms-service.js";

/**
 * proto3 JSON <-> the object shape the gRPC side uses, driven by the
 * descriptors in the loaded package definition, so the REST server needs no
 * hand-written mapping per message: bytes as base64, 64-bit integers as
 * strings, enums by name or (as the client sends with numericEnums) number,
 * wrappers as bare values, Timestamp as RFC 3339, FieldMask as a string.
 */
interface FieldDescriptor {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}
interface EnumDescriptor {
  readonly name: string;
  readonly value: readonly { readonly name: string; readonly number: number }[];
}
interface MessageDescriptor {
  readonly name: string;
  readonly field: readonly FieldDescriptor[];
  readonly nestedType: readonly MessageDescriptor[];
  readonly enumType: readonly EnumDescriptor[];
  readonly options?: { readonly mapEntry?: boolean } | null;
}
type Resolved =
  | { readonly kind: "message"; readonly fullName: string; readonly descriptor: MessageDescriptor }
  | { readonly kind: "enum"; readonly descriptor: EnumDescriptor };

const INT64 = new Set(["TYPE_INT64", "TYPE_UINT64", "TYPE_SINT64", "TYPE_FIXED64", "TYPE_SFIXED64"]);

export function createJsonCodec(definition: PackageDefinition) {
  const cache = new Map<string, Resolved | undefined>();

  function lookupFull(fullName: string): Resolved | undefined {
    const direct = definition[fullName] as { format?: string; type?: unknown } | undefined;
    if (direct?.format?.endsWith("EnumDescriptorProto"))
      return { kind: "enum", descriptor: direct.type as EnumDescriptor };
    if (direct?.format?.endsWith("DescriptorProto")) {
      return { kind: "message", fullName, descriptor: direct.type as MessageDescriptor };
    }
    // Nested types are not top-level entries: walk down from the closest enclosing message.
    const parts = fullName.split(".");
    for (let i = parts.length - 1; i > 0; i--) {
      const outer = lookupFull(parts.slice(0, i).join("."));
      if (outer?.kind !== "message") continue;
      let current: MessageDescriptor = outer.descriptor;
      for (let j = i; j < parts.length; j++) {
        const part = parts[j];
        const nested = current.nestedType.find((type) => type.name === part);
        if (nested !== undefined) {
          current = nested;
          continue;
        }
        const nestedEnum = current.enumType.find((type) => type.name === part);
        return nestedEnum !== undefined && j === parts.length - 1
          ? { kind: "enum", descriptor: nestedEnum }
          : undefined;
      }
      return { kind: "message", fullName, descriptor: current };
    }
    return undefined;
  }

  /** Resolves a (possibly relative) type name the way protobuf scoping does. */
  function resolve(scope: string, typeName: string): Resolved {
    const key = `${scope}|${typeName}`;
    if (cache.has(key)) return cache.get(key)!;
    let found: Resolved | undefined;
    if (typeName.startsWith(".")) found = lookupFull(typeName.slice(1));
    const parts = scope.split(".");
    for (let i = parts.length; found === undefined && i >= 0; i--) {
      const prefix = parts.slice(0, i).join(".");
      found = lookupFull(prefix === "" ? typeName : `${prefix}.${typeName}`);
    }
    if (found === undefined) throw new Error(`unknown proto type ${typeName} (in ${scope})`);
    cache.set(key, found);
    return found;
  }

  function convert(fullName: string, value: Wire, direction: "toJson" | "fromJson"): Wire {
    const message = resolve("", fullName);
    if (message.kind !== "message") throw new Error(`${fullName} is not a message`);
    const out: Wire = {};
    for (const field of message.descriptor.field) {
      const raw = value[field.name] ?? value[snakeCase(field.name)];
      if (raw === undefined || raw === null) continue;
      const type =
        field.type === "TYPE_MESSAGE" || field.type === "TYPE_ENUM"
          ? resolve(fullName, field.typeName)
          : undefined;
      if (type?.kind === "message" && type.descriptor.options?.mapEntry === true) {
        out[field.name] = { ...raw };
      } else if (field.label === "LABEL_REPEATED") {
        out[field.name] = (raw as unknown[]).map((item) => scalar(field, type, item, direction));
      } else {
        out[field.name] = scalar(field, type, raw, direction);
      }
    }
    return out;
  }

  function scalar(
    field: FieldDescriptor,
    type: Resolved | undefined,
    raw: unknown,
    direction: "toJson" | "fromJson",
  ): unknown {
    const toJson = direction === "toJson";
    if (field.type === "TYPE_BYTES") {
      return toJson ? Buffer.from(raw as Uint8Array).toString("base64") : Buffer.from(String(raw), "base64");
    }
    if (INT64.has(field.type)) return String(raw);
    if (type?.kind === "enum") {
      if (typeof raw === "number") return type.descriptor.value.find((v) => v.number === raw)?.name ?? raw;
      return raw;
    }
    if (type?.kind === "message")
      return wellKnown(type.fullName, raw, direction) ?? convert(type.fullName, raw as Wire, direction);
    return raw;
  }

  return {
    toJson: (typeName: string, value: Wire) => convert(typeName, value, "toJson"),
    fromJson: (typeName: string, value: Wire) => convert(typeName, value, "fromJson"),
  };
}

function wellKnown(fullName: string, raw: unknown, direction: "toJson" | "fromJson"): unknown {
  const toJson = direction === "toJson";
  switch (fullName) {
    case "google.protobuf.Int64Value":
    case "google.protobuf.UInt64Value":
      return toJson ? String((raw as Wire).value ?? "0") : { value: String(raw) };
    case "google.protobuf.BoolValue":
    case "google.protobuf.StringValue":
    case "google.protobuf.Int32Value":
    case "google.protobuf.UInt32Value":
    case "google.protobuf.DoubleValue":
    case "google.protobuf.FloatValue":
      return toJson ? (raw as Wire).value : { value: raw };
    case "google.protobuf.Timestamp": {
      if (!toJson) {
        const ms = Date.parse(String(raw));
        return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
      }
      const { seconds, nanos } = raw as Wire;
      return new Date(Number(seconds ?? 0) * 1000 + Math.floor(Number(nanos ?? 0) / 1e6)).toISOString();
    }
    case "google.protobuf.Duration": {
      if (!toJson) return { seconds: String(Math.trunc(Number.parseFloat(String(raw)))), nanos: 0 };
      return `${(raw as Wire).seconds ?? 0}s`;
    }
    case "google.protobuf.FieldMask":
      return toJson
        ? ((raw as Wire).paths ?? []).join(",")
        : { paths: String(raw).split(",").filter(Boolean).map(snakeCase) };
    default:
      return undefined;
  }
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
