// The characters of a bundle id that a Sugar client misreads in the aslo or the microformat feed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FEED_MISREAD_CHARACTERS, feedMisreadCharacters } from '../../src/bundles/feed-safe-id.js';
import { parseUpdateQuery } from '../../src/updates/query.js';

describe('feedMisreadCharacters', () => {
  it('names each misread character once, in the order of the list', () => {
    assert.deepEqual(feedMisreadCharacters('org.sugarlabs.Maze'), []);
    assert.deepEqual(feedMisreadCharacters("org.example.Tom's"), [], "' is written as itself in both feeds");
    assert.deepEqual(feedMisreadCharacters("org.example.Tom's&Jerry&Co"), ['&']);
    assert.deepEqual(feedMisreadCharacters('a<b%c#d&e'), ['&', '#', '%', '<']);
    assert.deepEqual(feedMisreadCharacters('org.example.Ünïcode+plus=eq'), []);
  });

  it('every listed character has a reason, and the aslo ones really are misread in the request Sugar sends', () => {
    for (const c of FEED_MISREAD_CHARACTERS) {
      assert.equal([...c.character].length, 1);
      assert.ok(c.reason.length > 20, c.character);
    }
    // Sugar writes update-aslo.php?id=<id>&appVersion=... without encoding the id.
    const sent = (id: string) => {
      const url = `/services/update-aslo.php?id=${id}&appVersion=0.112`;
      return parseUpdateQuery(url.split('#')[0]!).id;
    };
    assert.equal(sent('org.example.Plain'), 'org.example.Plain');
    for (const c of FEED_MISREAD_CHARACTERS.filter((x) => x.feed !== 'microformat')) {
      const id = `org.example.A${c.character}41B`;
      assert.notEqual(sent(id), id, `${c.character} is misread`);
    }
  });
});
