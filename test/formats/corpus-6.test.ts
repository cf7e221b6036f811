// Part 6 of the shared corpus against pdftotext; see corpus-part.ts.
import { corpusPart } from './corpus-part.ts';

corpusPart(6);
