/**
 * Amazon Connect → CityLoop: the Lambda a contact flow invokes ("Invoke AWS Lambda function" block, response
 * validation STRING_MAP, time limit ≤ 8 s). It opens or updates the call record keyed by ContactId (caller number
 * from telephony, queue, contact attributes) so the agent console finds the number filled in, and answers the flow
 * with flat string attributes, e.g. `{ callRecord: 'saved', callerNumber: 'present', callerKnown: 'true',
 * openCases: '2', latestOpenTrackingNo: '20251128000123' }`, available in the flow as `$.External.<name>`.
 *
 * It never throws: a malformed event answers `{ callRecord: 'failed', error: '<CODE>' }` and a store failure
 * `{ error: 'STORE_UNAVAILABLE' }`, so the flow always carries on to an agent (a call must not drop because of us).
 * https://docs.aws.amazon.com/connect/latest/adminguide/connect-lambda-functions.html
 */
import middy from '@middy/core';
import type { CallStore } from '#channels/hotline/call-record.ts';
import { mergeCall } from '#channels/hotline/call-record.ts';
import { type FlowAttributes, flowAttributes, flowError, parseConnectEvent } from '#channels/hotline/connect.ts';
import { toShanghaiIso } from '#core/ids.ts';
import type { Clock } from '#core/ports.ts';
import { departmentName } from '#core/taxonomy/defaults.ts';
import { failureFields, log } from '../lib/log.ts';
import { getRuntime } from '../lib/runtime.ts';
import { type CallerLookup, casesOfCitizen } from './caller.ts';
import { callStore } from './calls.ts';

export interface ConnectDeps {
  calls: CallStore;
  store: CallerLookup;
  clock: Clock;
}

export async function handleConnectEvent(event: unknown, deps: ConnectDeps): Promise<FlowAttributes> {
  const parsed = parseConnectEvent(event);
  if (!parsed.ok) {
    log.warn('connect event refused', { code: parsed.code, reason: parsed.message });
    return flowError(parsed.code);
  }
  const call = parsed.call;
  let record: Awaited<ReturnType<CallStore['update']>>;
  try {
    const now = toShanghaiIso(deps.clock.now());
    record = await deps.calls.update(call.contactId, (existing) => mergeCall(existing, call, now));
  } catch (e) {
    log.error('call record not saved', { contactId: call.contactId, error: (e as Error).message });
    return flowError('STORE_UNAVAILABLE');
  }
  const callerStatus = record?.callerStatus ?? call.callerStatus;
  const phone = record?.callerPhone;
  try {
    const history = phone ? await casesOfCitizen(deps.store, { phone }, departmentName) : { knownReports: 0, open: [] };
    const latest = history.open[0]?.trackingNo;
    log.info('call recorded', {
      contactId: call.contactId,
      caller: callerStatus,
      openCases: history.open.length,
      invocations: record?.invocations,
      dropped: call.dropped,
    });
    return flowAttributes({
      contactId: call.contactId,
      callerStatus,
      knownReports: history.knownReports,
      openCases: history.open.length,
      ...(latest ? { latestOpenTrackingNo: latest } : {}),
    });
  } catch (e) {
    // The record is saved; only the caller's history is missing. The flow goes on without it.
    log.error('caller history unavailable', { contactId: call.contactId, error: (e as Error).message });
    return { callRecord: 'saved', contactId: call.contactId, callerNumber: callerStatus, error: 'HISTORY_UNAVAILABLE' };
  }
}

export async function connectContactHandler(event: unknown): Promise<FlowAttributes> {
  try {
    const rt = getRuntime();
    return await handleConnectEvent(event, { calls: callStore(), store: rt.store, clock: rt.clock });
  } catch (e) {
    // Configuration errors (no TABLE_NAME ...) too: the flow must get an answer, never a Lambda error.
    log.error('connect handler failed', failureFields(e));
    return flowError('INTERNAL');
  }
}

export const handler = middy<unknown, FlowAttributes>().handler(connectContactHandler);
