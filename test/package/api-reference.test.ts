/**
 * The public API as the built declarations (dist/*.d.ts) state it, against its documentation:
 * every exported declaration and each of its public members carries TSDoc, and every public
 * member of the main entry is named (in inline code) in the README's Reference section. Both read the members from
 * the declarations, so a member added later fails here, by name, until it is documented.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
const entries = ['index', 'testing', 'node', 'lww', 'compare'].map((name) => `${root}dist/${name}.d.ts`)
const built = entries.every((entry) => existsSync(entry))

/**
 * Main-entry types that restate Trystero's own API structurally (its room, its actions, a
 * WebSocket's state): documented by TSDoc here and by Trystero, not in our README.
 */
const trysteroShapes = new Set(['TrysteroRoom', 'TrysteroAction', 'RelaySocket'])

interface ApiItem {
  /** `TrysteroProvider.trafficWith`, `defaultAppId`, … */
  path: string
  /** The name a reader looks for: the member's (or the export's) own name. */
  name: string
  export: string
  documented: boolean
}

const readApi = (): Map<string, ApiItem[]> => {
  const program = ts.createProgram(entries, { strict: true, skipLibCheck: true, noEmit: true })
  const checker = program.getTypeChecker()
  const hasDoc = (symbol: ts.Symbol): boolean => ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() !== ''
  const api = new Map<string, ApiItem[]>()
  for (const entry of entries) {
    const items: ApiItem[] = []
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = (exported.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(exported) : exported
      items.push({ path: exported.name, name: exported.name, export: exported.name, documented: hasDoc(symbol) })
      const declaration = symbol.declarations?.find((d) => ts.isClassDeclaration(d) || ts.isInterfaceDeclaration(d)) as ts.ClassDeclaration | ts.InterfaceDeclaration | undefined
      for (const member of declaration?.members ?? []) {
        if (ts.isConstructorDeclaration(member) || member.name === undefined || ts.isIndexSignatureDeclaration(member)) continue
        const modifiers = ts.canHaveModifiers(member) ? ts.getModifiers(member) ?? [] : []
        if (modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword)) continue
        const memberSymbol = (member as unknown as { symbol: ts.Symbol }).symbol
        // `@internal`: public in JavaScript only for the package's own modules.
        if (memberSymbol.getJsDocTags(checker).some((tag) => tag.name === 'internal')) continue
        items.push({ path: `${exported.name}.${memberSymbol.name}`, name: memberSymbol.name, export: exported.name, documented: hasDoc(memberSymbol) })
      }
    }
    api.set(entry.replace(/.*\/dist\//, 'dist/'), items)
  }
  return api
}

describe.skipIf(!built)('the public API and its documentation (run `npm run build` first; `npm test` does)', () => {
  const api = built ? readApi() : new Map<string, ApiItem[]>()

  it('reads the declarations (the checks below see the provider\'s members)', () => {
    const main = api.get('dist/index.d.ts')!.map((item) => item.path)
    expect(main).toEqual(expect.arrayContaining(['TrysteroProvider', 'TrysteroProvider.trafficWith', 'TrysteroProvider.signaling', 'TrysteroProviderEvents.peers']))
  })

  it('gives every exported declaration and every public member TSDoc', () => {
    const undocumented = [...api].flatMap(([entry, items]) => items.filter((item) => !item.documented).map((item) => `${entry}: ${item.path}`))
    expect(undocumented, 'members without TSDoc').toEqual([])
  })

  it('names every public member of the main entry in the README\'s Reference section', () => {
    const readme = readFileSync(`${root}README.md`, 'utf8')
    const start = readme.indexOf('\n## Reference\n')
    expect(start, 'README has a "## Reference" section').toBeGreaterThan(-1)
    const end = readme.indexOf('\n## ', start + 1)
    const reference = readme.slice(start, end === -1 ? undefined : end)
    // Names a reader can find: every identifier inside the section's inline code.
    const named = new Set([...reference.matchAll(/`([^`\n]+)`/g)].flatMap(([, code]) => code!.match(/[A-Za-z_$][\w$]*/g) ?? []))
    const missing = api.get('dist/index.d.ts')!
      .filter((item) => !trysteroShapes.has(item.export) && !named.has(item.name))
      .map((item) => item.path)
    expect(missing, 'public members missing from the README reference').toEqual([])
  })
})
