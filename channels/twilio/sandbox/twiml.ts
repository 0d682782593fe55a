import { DOMParser } from '@xmldom/xmldom';

/** One TwiML verb with its attributes, text and nested verbs (e.g. <Say> inside <Gather>). */
export interface TwimlVerb {
  name: string;
  attributes: Record<string, string>;
  text: string;
  children: TwimlVerb[];
}

interface XmlNodeLike {
  nodeType: number;
  nodeName: string;
  textContent: string | null;
  childNodes: ArrayLike<XmlNodeLike>;
  attributes?: ArrayLike<{ name: string; value: string }>;
}

const ELEMENT_NODE = 1;

function toVerb(node: XmlNodeLike): TwimlVerb {
  const attributes: Record<string, string> = {};
  for (const attr of Array.from(node.attributes ?? [])) attributes[attr.name] = attr.value;
  const children = Array.from(node.childNodes)
    .filter((child) => child.nodeType === ELEMENT_NODE)
    .map(toVerb);
  return { name: node.nodeName, attributes, text: (node.textContent ?? '').trim(), children };
}

/**
 * Parses a TwiML document into its verbs, in document order. Rejects anything that
 * Twilio itself would refuse (malformed XML, a root other than <Response>) so a
 * broken gateway response fails the sandbox call the way it fails a real one.
 */
export function parseTwiml(xml: string): TwimlVerb[] {
  const document = new DOMParser({
    onError: (level: string, message: string) => {
      if (level !== 'warning') throw new Error(`TwiML is not well-formed XML: ${message}`);
    },
  }).parseFromString(xml, 'text/xml');
  const root = document.documentElement as unknown as XmlNodeLike | null;
  if (!root || root.nodeName !== 'Response') {
    throw new Error(`TwiML root element must be <Response>, got <${root?.nodeName ?? 'nothing'}>`);
  }
  return toVerb(root).children;
}
