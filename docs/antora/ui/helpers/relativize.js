'use strict'

// a page's URL relative to the current page, as the default UI makes it
module.exports = (to, { data: { root } }) => {
  const { contentCatalog, page } = root
  if (!to || to.charAt() !== '/' || !page.url) return to // a fragment, or a link off the site
  return contentCatalog ? require('path').posix.relative(require('path').posix.dirname(page.url), to) || '.' : to
}
