// messageId: bytes32 hex, the same id the vault's MessagePaid receipt carries.
// With an Idempotency-Key it is derived from (sender, key), so a retry names the
// same message; without one it is random.
import { encodeAbiParameters, keccak256, toHex } from "viem";

export type MessageId = `0x${string}`;

export function messageIdFor(senderId: string, idempotencyKey: string | undefined): MessageId {
  if (!idempotencyKey) return toHex(crypto.getRandomValues(new Uint8Array(32)));
  return keccak256(
    encodeAbiParameters(
      [{ type: "string" }, { type: "string" }, { type: "string" }],
      ["paid-inbox:message:v1", senderId, idempotencyKey],
    ),
  );
}

export const MESSAGE_ID_RE = /^0x[0-9a-f]{64}$/;
