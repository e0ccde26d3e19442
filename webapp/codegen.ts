import type { CodegenConfig } from '@graphql-codegen/cli';

// The API's schema is the service's own: ent's generated part and the
// hand-written operations, as gqlgen reads them (gqlgen.yml).
const schema = ['../graph/ent.graphql', '../schema.graphql'];

const config: CodegenConfig = {
  schema,
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: true,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { Time: 'string', Cursor: 'string', Map: 'Record<string, unknown>' },
      },
    },
  },
};

export default config;
