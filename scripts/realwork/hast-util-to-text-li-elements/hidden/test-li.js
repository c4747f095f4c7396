import assert from 'node:assert/strict'
import test from 'node:test'
import {h} from 'hastscript'
import {toText} from 'hast-util-to-text'

test('li elements', async function (t) {
  await t.test('should support `li` elements', async function () {
    assert.equal(
      toText(h('ul', [h('li', 'Foxtrot'), h('li', 'Golf')])),
      'Foxtrot\nGolf'
    )
  })
})
