import { it, describe, expect } from "vitest";
import { defu } from "../src/defu";

describe("defu with a __proto__ key", () => {
  it("does not take defaults from a JSON __proto__ payload", () => {
    const malicious = JSON.parse('{"__proto__":{"isAdmin":true}}');
    const result = defu(malicious, { isAdmin: false });

    expect(result.isAdmin).toBe(false);
    // @ts-ignore
    expect({}.isAdmin).toBe(undefined);
  });
});
