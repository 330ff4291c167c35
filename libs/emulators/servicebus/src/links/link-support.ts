import type { EmulatorError } from '../emulator-error.ts';
import {
  isAttachHeld,
  localAttach,
  outcomes,
  releaseAttach,
  remoteAttach,
  type Receiver,
  type Sender,
} from '../amqp/rhea.ts';
import type { FaultInjector } from '../faults/fault-injector.ts';
import type { Journal } from '../broker/journal-port.ts';
import type { Namespace } from '../broker/namespace.ts';
import type { ConnectionContext } from './connection-context.ts';

/** What every link handler needs from the running emulator. */
export interface LinkEnvironment {
  namespace: Namespace;
  journal: Journal;
  faults: FaultInjector;
  /** True when `$cbs` tokens are verified and links need a claim. */
  requireClaims: boolean;
  /** The namespace URI entities are named by in errors (`sb://127.0.0.1:5672`). */
  namespaceUri: string;
  /** Unexpected errors (the emulator keeps running). */
  onInternalError(error: unknown): void;
}

/** What a link handler knows about its link's connection. */
export interface LinkScope {
  env: LinkEnvironment;
  context: ConnectionContext;
  /** The bytes of the transfer rhea is dispatching on `link` now (taken once). */
  takePayload(link: Receiver): Buffer | undefined;
}

/**
 * Refuses a peer's attach the AMQP way (part 2 §2.6.3): our attach with a
 * null terminus, then at once a detach with the error. The SDK sees the
 * error on the link it was creating.
 */
export function refuseAttach(link: Sender | Receiver, error: EmulatorError): void {
  const attach = localAttach(link);
  if (link.is_receiver()) attach['target'] = null;
  else attach['source'] = null;
  if (isAttachHeld(link)) releaseAttach(link);
  link.close(error.toAmqpError());
}

/** Answers an attach with the termini the peer asked for (a null terminus would mean "refused"). */
export function mirrorTermini(link: Sender | Receiver): void {
  const remote = remoteAttach(link);
  if (remote['source']) link.set_source(remote['source'] as never);
  if (remote['target']) link.set_target(remote['target'] as never);
}

/** The `accepted` outcome, described (for `delivery.update`). */
export function acceptedState(): unknown {
  return outcomes.accepted().described();
}

/** A `rejected` outcome carrying `error` (or none). */
export function rejectedState(error?: { condition: string; description: string }): unknown {
  return (error ? outcomes.rejected({ error }) : outcomes.rejected()).described();
}

/** A `modified` outcome (abandon / defer echoed back without annotations). */
export function modifiedState(undeliverableHere: boolean): unknown {
  return outcomes
    .modified({ delivery_failed: !undeliverableHere, undeliverable_here: undeliverableHere })
    .described();
}

/** `a` as a string, when it is one. */
export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
