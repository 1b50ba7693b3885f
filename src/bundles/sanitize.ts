// activity.info `description`: Sugar documents it as an HTML subset using only p, ul, ol and li.
// Anything else is removed (tags dropped, their text kept and escaped; script/style contents
// dropped entirely), and no attributes survive, so the result can be inserted into a page as is.

import sanitizeHtml from 'sanitize-html';

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'ul', 'ol', 'li'],
  allowedAttributes: {},
  disallowedTagsMode: 'discard',
  // Not even the default "a href" schemes: no attributes are allowed at all.
  allowedSchemes: [],
};

export function sanitizeDescription(html: string): string {
  return sanitizeHtml(html, OPTIONS).trim();
}
