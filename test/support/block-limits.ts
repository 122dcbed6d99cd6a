/**
 * A checker for Slack's documented Block Kit limits. Builders stay inside them by construction (kit.ts);
 * this finds out when one does not, for tests and for the Slack stand-in that inspects every payload.
 */
import { LIMITS } from '../../src/blocks/kit.ts';

/** Where blocks are shown: messages allow 50 blocks, modals and the App Home 100. */
export type BlockSurface = 'message' | 'modal' | 'home';

/** One broken limit: where (a JSON path such as `blocks[3].fields[2].text`), which rule, and by how much. */
export interface LimitViolation {
  path: string;
  rule: string;
  actual: number | string;
  limit: number | string;
  message: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a block list against Slack's limits for `surface` and returns every violation (empty when the
 * payload is fine). It never throws, whatever it is given, so it can inspect untrusted payloads.
 */
export function assertWithinLimits(blocks: unknown, surface: BlockSurface): LimitViolation[] {
  const out: LimitViolation[] = [];
  const add = (path: string, rule: string, actual: number | string, limit: number | string) =>
    out.push({ path, rule, actual, limit, message: `${path}: ${rule} (${actual}, limit ${limit})` });

  if (!Array.isArray(blocks)) {
    add('blocks', 'blocks must be an array', typeof blocks, 'array');
    return out;
  }
  const maxBlocks = surface === 'message' ? LIMITS.messageBlocks : LIMITS.surfaceBlocks;
  if (blocks.length > maxBlocks) add('blocks', `too many blocks for a ${surface}`, blocks.length, maxBlocks);

  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const at = `blocks[${i}]`;
    if (!isObject(block)) {
      add(at, 'block must be an object', typeof block, 'object');
      return;
    }
    if (block.block_id !== undefined) {
      const id = block.block_id;
      if (typeof id !== 'string' || id.length === 0)
        add(`${at}.block_id`, 'block_id must be text', String(id), 'text');
      else {
        if (id.length > LIMITS.blockId) add(`${at}.block_id`, 'block_id too long', id.length, LIMITS.blockId);
        if (blockIds.has(id)) add(`${at}.block_id`, 'block_id repeated in one payload', id, 'unique');
        blockIds.add(id);
      }
    }
    switch (block.type) {
      case 'header':
        checkText(block.text, `${at}.text`, LIMITS.headerText, add, 'plain_text');
        break;
      case 'section':
        checkSection(block, at, add);
        break;
      case 'context': {
        const elements = block.elements;
        if (!Array.isArray(elements) || elements.length === 0) {
          add(`${at}.elements`, 'context needs 1 to 10 elements', Array.isArray(elements) ? 0 : 'none', 1);
          break;
        }
        if (elements.length > LIMITS.contextElements) {
          add(`${at}.elements`, 'too many context elements', elements.length, LIMITS.contextElements);
        }
        elements.forEach((el, j) => {
          if (isObject(el) && el.type === 'image') checkImage(el, `${at}.elements[${j}]`, add);
          else checkText(el, `${at}.elements[${j}]`, LIMITS.sectionText, add);
        });
        break;
      }
      case 'actions': {
        const elements = block.elements;
        if (!Array.isArray(elements) || elements.length === 0) {
          add(`${at}.elements`, 'actions need 1 to 25 elements', Array.isArray(elements) ? 0 : 'none', 1);
          break;
        }
        if (elements.length > LIMITS.actionsElements) {
          add(`${at}.elements`, 'too many action elements', elements.length, LIMITS.actionsElements);
        }
        const actionIds = new Set<string>();
        elements.forEach((el, j) => {
          const path = `${at}.elements[${j}]`;
          checkElement(el, path, add);
          if (isObject(el) && typeof el.action_id === 'string') {
            if (actionIds.has(el.action_id))
              add(`${path}.action_id`, 'action_id repeated in one block', el.action_id, 'unique');
            actionIds.add(el.action_id);
          }
        });
        break;
      }
      case 'image':
        checkImage(block, at, add);
        break;
      case 'divider':
        break;
      default:
        // Other block types (input, rich_text, video, …) are not produced by our builders; accept them.
        break;
    }
  });
  return out;
}

type Add = (path: string, rule: string, actual: number | string, limit: number | string) => void;

function checkSection(block: Json, at: string, add: Add): void {
  const hasText = block.text !== undefined;
  const fields = block.fields;
  if (!hasText && fields === undefined) add(at, 'section needs text or fields', 'neither', 'text or fields');
  if (hasText) checkText(block.text, `${at}.text`, LIMITS.sectionText, add);
  if (fields !== undefined) {
    if (!Array.isArray(fields) || fields.length === 0) {
      add(`${at}.fields`, 'fields must be a non-empty array', Array.isArray(fields) ? 0 : typeof fields, 1);
    } else {
      if (fields.length > LIMITS.fieldCount)
        add(`${at}.fields`, 'too many fields', fields.length, LIMITS.fieldCount);
      fields.forEach((f, j) => {
        checkText(f, `${at}.fields[${j}]`, LIMITS.fieldText, add);
      });
    }
  }
  if (block.accessory !== undefined) checkElement(block.accessory, `${at}.accessory`, add);
}

function checkElement(el: unknown, at: string, add: Add): void {
  if (!isObject(el)) {
    add(at, 'element must be an object', typeof el, 'object');
    return;
  }
  if (el.action_id !== undefined) {
    const id = el.action_id;
    if (typeof id !== 'string' || id.length === 0)
      add(`${at}.action_id`, 'action_id must be text', String(id), 'text');
    else if (id.length > LIMITS.actionId)
      add(`${at}.action_id`, 'action_id too long', id.length, LIMITS.actionId);
  }
  if (el.type === 'button') {
    checkText(el.text, `${at}.text`, LIMITS.buttonText, add, 'plain_text');
    if (el.value !== undefined) {
      if (typeof el.value !== 'string')
        add(`${at}.value`, 'button value must be text', typeof el.value, 'text');
      else if (el.value.length > LIMITS.buttonValue)
        add(`${at}.value`, 'button value too long', el.value.length, LIMITS.buttonValue);
    }
    if (typeof el.url === 'string' && el.url.length > 3000)
      add(`${at}.url`, 'button url too long', el.url.length, 3000);
  } else if (el.type === 'image') {
    checkImage(el, at, add);
  }
}

function checkImage(el: Json, at: string, add: Add): void {
  if (typeof el.alt_text !== 'string' || el.alt_text.length === 0)
    add(`${at}.alt_text`, 'image needs alt_text', 0, 1);
  else if (el.alt_text.length > 2000) add(`${at}.alt_text`, 'alt_text too long', el.alt_text.length, 2000);
  if (typeof el.image_url === 'string' && el.image_url.length > 3000) {
    add(`${at}.image_url`, 'image_url too long', el.image_url.length, 3000);
  }
}

function checkText(obj: unknown, at: string, max: number, add: Add, only?: 'plain_text'): void {
  if (!isObject(obj)) {
    add(at, 'text object missing', typeof obj, 'object');
    return;
  }
  if (obj.type !== 'plain_text' && obj.type !== 'mrkdwn') {
    add(`${at}.type`, 'text type must be plain_text or mrkdwn', String(obj.type), 'plain_text|mrkdwn');
  } else if (only && obj.type !== only) {
    add(`${at}.type`, `must be ${only}`, obj.type, only);
  }
  if (typeof obj.text !== 'string') {
    add(`${at}.text`, 'text must be a string', typeof obj.text, 'string');
    return;
  }
  if (obj.text.length === 0) add(`${at}.text`, 'text is empty', 0, 1);
  if (obj.text.length > max) add(`${at}.text`, 'text too long', obj.text.length, max);
}

/**
 * Finds `<!channel>`, `<!here>` and `<!everyone>` in the text Slack interprets as mrkdwn (a message's `text`
 * and every mrkdwn text object): our replies never notify whole channels, so one of these means imported
 * or typed text reached Slack unescaped. Plain text, button values and ids are not interpreted, so skipped.
 */
export function findBroadcastMentions(payload: unknown, path = '$'): string[] {
  return mrkdwnStrings(payload, path)
    .filter(([, text]) => /<!(channel|here|everyone)(\|[^>]*)?>/.test(text))
    .map(([at]) => at);
}

/** Every string Slack would read as mrkdwn in a payload, with its JSON path. */
export function mrkdwnStrings(payload: unknown, path = '$'): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (value: unknown, at: string) => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        walk(v, `${at}[${i}]`);
      });
      return;
    }
    if (!isObject(value) || value.type === 'plain_text') return;
    for (const [key, v] of Object.entries(value)) {
      if (key === 'text' && typeof v === 'string') out.push([`${at}.text`, v]);
      else if (typeof v === 'object') walk(v, `${at}.${key}`);
    }
  };
  walk(payload, path);
  return out;
}
