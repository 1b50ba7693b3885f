// `aslo keys show`: the public half of the Ed25519 key that signs the JSON index
// (/services/index.json, signature at index.json.sig). The private key lives in the secrets
// store (ASLO_SECRET_SIGNING_KEY or the instance's secrets.yaml) and is generated there on first
// use; this command never prints it.
import { Command } from 'commander';
import { cliOut, configFrom, runsThroughStore, say, withCommon } from '../common.js';
import { ensureInstanceFolders, loadSecrets } from '../../platform/config.js';
import { signingKeysFrom } from '../../updates/json-index.js';
import { AsloError } from '../../platform/errors.js';

export function registerKeys(program: Command): void {
  const keys = withCommon(program.command('keys')).description('the key that signs the JSON index');

  runsThroughStore(withCommon(keys.command('show')))
    .description('print the public key (PEM) that verifies index.json signatures, and its fingerprint')
    .option('--pem', 'print only the PEM')
    .action(async (opts: { pem?: boolean }, cmd: Command) => {
      const config = await configFrom(cmd);
      ensureInstanceFolders(config);
      const secrets = await loadSecrets(config, { generate: true });
      let k;
      try {
        k = signingKeysFrom(secrets.signingKey);
      } catch (err) {
        throw new AsloError(
          'KEYS_BAD_SIGNING_KEY',
          `The signing key of instance "${config.instance}" cannot be used: ${(err as Error).message}. Set ASLO_SECRET_SIGNING_KEY to an Ed25519 private key in PKCS#8 PEM.`,
        );
      }
      if (opts.pem) {
        cliOut().write(k.publicKeyPem);
        return;
      }
      say(`# Ed25519 public key of instance "${config.instance}" (also at ${config.server.baseUrl}/services/index-key.pem)`);
      say(`# fingerprint sha256:${k.fingerprint}`);
      cliOut().write(k.publicKeyPem);
    });
}
